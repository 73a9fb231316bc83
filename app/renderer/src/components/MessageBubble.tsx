import { missingCaseError, type Message, type MessageStatus } from '../../../shared/index.js';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function statusText(status: MessageStatus): string {
  switch (status) {
    case 'pending':
      return 'Sending…';
    case 'sent':
      return 'Sent';
    case 'received':
      return 'Received';
    case 'failed':
      return 'Not sent';
    default:
      throw missingCaseError(status);
  }
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
          {own ? <span className="bubble-status"> · {statusText(message.status)}</span> : null}
        </p>
      </div>
    </li>
  );
}
