/** Why a blob transfer was not started: its user has as many going as one may, or the relay has as many as it may. */
export type TransferRefusal = 'user' | 'relay';

/**
 * Blob uploads and downloads in progress: each holds a file open, from the descriptors the relay keeps beside its
 * connections, for as long as its client takes. So they are counted, per user and in all, and capped.
 */
export class BlobTransfers {
  private total = 0;
  private readonly byUser = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly maxPerUser: number,
  ) {}

  /** A slot for one of username's transfers, with the function that frees it (once, however often called); or why not. */
  take(username: string): { readonly release: () => void } | TransferRefusal {
    const mine = this.byUser.get(username) ?? 0;
    if (mine >= this.maxPerUser) return 'user';
    if (this.total >= this.max) return 'relay';
    this.total += 1;
    this.byUser.set(username, mine + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const left = (this.byUser.get(username) ?? 1) - 1;
        if (left === 0) this.byUser.delete(username);
        else this.byUser.set(username, left);
      },
    };
  }

  get inProgress(): number {
    return this.total;
  }
}
