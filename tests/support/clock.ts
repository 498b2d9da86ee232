import type { Clock } from "../../server/deps.ts";

/** A clock tests move by hand. */
export class TestClock implements Clock {
  private t: number;
  constructor(start: Date | string = "2026-11-20T00:00:00Z") {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  set(d: Date | string): void {
    this.t = new Date(d).getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
