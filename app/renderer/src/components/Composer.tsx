import { useState, type FormEvent, type KeyboardEvent } from 'react';
import { MAX_MESSAGE_CHARS } from '../../../shared/index.js';
import { errorText } from '../errorText.js';
import { useMessages } from '../stores/messages.js';
import { FormError } from './FormError.js';

/** Enter sends, Shift+Enter starts a new line. */
export function Composer({ contact }: { contact: string }) {
  const send = useMessages((state) => state.send);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);

  async function submit(): Promise<void> {
    if (text.trim().length === 0) return;
    const sending = text;
    setText('');
    setError(null);
    const result = await send(contact, sending);
    if (!result.ok) {
      setText(sending);
      setError(errorText(result.error));
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): void {
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void submit();
  }

  function onSubmit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    void submit();
  }

  return (
    <form className="composer" onSubmit={onSubmit}>
      <FormError message={error} />
      <div className="composer-row">
        <label htmlFor="composer-input" className="visually-hidden">
          Message
        </label>
        <textarea
          id="composer-input"
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
          placeholder={`Message ${contact}`}
          rows={1}
          maxLength={MAX_MESSAGE_CHARS}
        />
        <button type="submit" className="primary" disabled={text.trim().length === 0}>
          Send
        </button>
      </div>
    </form>
  );
}
