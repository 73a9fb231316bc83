import { missingCaseError, type Message, type MessageStatus } from '../../../shared/index.js';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** What an outgoing message's status says (label) and how it looks in the bubble (mark: a tick or the words). */
function statusMark(status: MessageStatus): { label: string; mark: string } {
  switch (status) {
    case 'pending':
      return { label: 'Sending…', mark: 'Sending…' };
    case 'sent':
      return { label: 'Sent', mark: '✓' };
    case 'delivered':
      return { label: 'Delivered', mark: '✓✓' };
    case 'received':
      return { label: 'Received', mark: '' };
    case 'failed':
      return { label: 'Not sent', mark: 'Not sent' };
    default:
      throw missingCaseError(status);
  }
}

function StatusMark({ status }: { status: MessageStatus }) {
  const { label, mark } = statusMark(status);
  // A tick alone is a picture: it carries its meaning as the accessible name and the tooltip.
  return (
    <span className={`bubble-status bubble-status-${status}`} role="img" aria-label={label} title={label} data-testid="message-status">
      {mark}
    </span>
  );
}

export function MessageBubble({ message, focused = false }: { message: Message; focused?: boolean }) {
  const own = message.direction === 'out';
  if (message.kind === 'notice') {
    return (
      <li className="notice-row" data-testid="notice">
        <p className="notice muted">{message.text}</p>
      </li>
    );
  }
  if (message.kind === 'undecryptable') {
    return (
      <li className="bubble-row theirs" data-testid="message" data-direction={message.direction} data-status="undecryptable">
        <div className="bubble undecryptable">
          <p className="bubble-text">⚠ A message from {message.contact} could not be decrypted ({message.errorCode ?? 'unknown error'}).</p>
          <p className="bubble-meta">
            <time dateTime={new Date(message.sentAt).toISOString()}>{timeFormat.format(message.sentAt)}</time>
          </p>
        </div>
      </li>
    );
  }
  return (
    <li className={`bubble-row ${own ? 'own' : 'theirs'}${focused ? ' focused' : ''}`} data-message-id={message.id} aria-current={focused ? 'true' : undefined} data-testid="message" data-direction={message.direction} data-status={message.status}>
      <div className={`bubble status-${message.status}`}>
        <p className="bubble-text">{message.text}</p>
        <p className="bubble-meta">
          <time dateTime={new Date(message.sentAt).toISOString()}>{timeFormat.format(message.sentAt)}</time>
          {own ? <> · <StatusMark status={message.status} /></> : null}
        </p>
      </div>
    </li>
  );
}
