/** One Server-Sent Event as a client sees it (comments are counted, not returned). */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * Follows an SSE stream with fetch, as a browser's EventSource would parse it, until the server
 * closes it, `stop` returns true, or `timeoutMs` passes.
 */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  options: { stop?: (event: SseEvent, all: SseEvent[]) => boolean; timeoutMs?: number } = {},
): Promise<{ events: SseEvent[]; comments: number; status: number; contentType: string | null; closedByServer: boolean }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 30000);
  const response = await fetch(url, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  let comments = 0;
  let closedByServer = false;
  if (response.status === 200 && response.body) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      reading: for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          closedByServer = true;
          break;
        }
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = parseBlock(block);
          if (!event) {
            comments++;
            continue;
          }
          events.push(event);
          if (options.stop?.(event, events)) break reading;
        }
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  } else {
    clearTimeout(timer);
  }
  return { events, comments, status: response.status, contentType: response.headers.get('content-type'), closedByServer };
}

function parseBlock(block: string): SseEvent | null {
  const event: SseEvent = { event: 'message', data: '' };
  let fields = 0;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    fields++;
    if (name === 'id') event.id = value;
    else if (name === 'event') event.event = value;
    else if (name === 'data') event.data = event.data ? `${event.data}\n${value}` : value;
    else if (name !== 'retry') fields--;
  }
  return fields > 0 && (event.data !== '' || event.id !== undefined) ? event : null;
}
