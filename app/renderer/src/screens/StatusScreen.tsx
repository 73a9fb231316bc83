import type { ReactNode } from 'react';

export function StatusScreen({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <main className="centered">
      <section className="card" aria-live="polite">
        <h1 className="brand">Parley</h1>
        <p className="status-title">{title}</p>
        {children ? <p className="muted">{children}</p> : null}
      </section>
    </main>
  );
}
