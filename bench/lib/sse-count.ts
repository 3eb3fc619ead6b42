/**
 * Checks a run's SSE stream as it arrives, without building an object per event: 50 watchers of
 * 200 000 lines are 10 million events, and a parser that allocates per event would make this
 * process, not the gateway, the bottleneck. It works on the raw bytes of each chunk; only a line
 * split across two chunks is copied, and only status events (a handful) are JSON-parsed.
 *
 * What it checks: log event ids run 1, 2, 3… with no gap or duplicate, each event's data carries
 * the same seq, and the lines whose text is a number (the step's `seq 1 N`) count 1, 2, 3… too.
 */
export class SseCounter {
  /** Log events seen; also the last seq, since each must be the previous one + 1. */
  logEvents = 0;
  /** Lines whose text is a decimal number; also the last such number (they must count up). */
  numbers = 0;
  comments = 0;
  lastStatus: string | null = null;
  /** The first thing that was out of order, if anything was. */
  error: string | null = null;
  private carry: Buffer | null = null;
  private id = -1;
  private kind: 'log' | 'status' | 'other' = 'other';
  private dataSeq = -1;
  private dataNumber = -1;
  private statusData: string | null = null;

  push(chunk: Buffer): void {
    let start = 0;
    if (this.carry) {
      const nl = chunk.indexOf(10);
      if (nl < 0) return void (this.carry = Buffer.concat([this.carry, chunk]));
      const line = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
      this.carry = null;
      this.line(line, 0, line.length);
      start = nl + 1;
    }
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.line(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start)); // a copy: the chunk's memory is reused
  }

  private line(buf: Buffer, start: number, end: number): void {
    if (end === start) return this.dispatch();
    switch (buf[start]) {
      case 0x3a: // ':' a comment (keep-alive)
        this.comments++;
        return;
      case 0x69: // 'id: <seq>'
        this.id = digits(buf, start + 4, end);
        return;
      case 0x65: // 'event: log' | 'event: status'
        this.kind = buf[start + 7] === 0x6c ? 'log' : buf[start + 7] === 0x73 ? 'status' : 'other';
        return;
      case 0x64: // 'data: …'
        if (this.kind === 'log') this.logData(buf, start + 6, end);
        else if (this.kind === 'status') this.statusData = buf.toString('utf8', start + 6, end);
        return;
    }
  }

  /** `{"seq":N,"text":"…"}` as the gateway writes it; the text is read only when it is all digits. */
  private logData(buf: Buffer, from: number, end: number): void {
    const SEQ = 7; // {"seq":
    let i = from + SEQ;
    let seq = 0;
    for (; i < end && buf[i] >= 0x30 && buf[i] <= 0x39; i++) seq = seq * 10 + buf[i] - 0x30;
    this.dataSeq = seq;
    i += 9; // ,"text":"
    const textStart = i;
    let value = 0;
    for (; i < end && buf[i] >= 0x30 && buf[i] <= 0x39; i++) value = value * 10 + buf[i] - 0x30;
    // A number only if the text ends right there (`"}`) and was not empty.
    this.dataNumber = i > textStart && buf[i] === 0x22 && buf[i + 1] === 0x7d ? value : -1;
  }

  /** A blank line ends an event. */
  private dispatch(): void {
    if (this.kind === 'log') this.checkLog();
    else if (this.kind === 'status' && this.statusData !== null) this.lastStatus = (JSON.parse(this.statusData) as { status: string }).status;
    this.id = -1;
    this.kind = 'other';
    this.dataSeq = -1;
    this.dataNumber = -1;
    this.statusData = null;
  }

  private checkLog(): void {
    if (this.id !== this.logEvents + 1 || this.dataSeq !== this.id) this.fail(`log event id ${this.id} (data seq ${this.dataSeq}) after ${this.logEvents}`);
    this.logEvents++;
    if (this.dataNumber < 0) return;
    if (this.dataNumber !== this.numbers + 1) this.fail(`line "${this.dataNumber}" after "${this.numbers}"`);
    this.numbers++;
  }

  private fail(message: string): void {
    this.error ??= message;
  }
}

function digits(buf: Buffer, from: number, end: number): number {
  let value = 0;
  for (let i = from; i < end; i++) value = value * 10 + buf[i] - 0x30;
  return value;
}
