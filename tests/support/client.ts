// A tiny browser-like HTTP client: keeps cookies, sends our Origin on writes,
// speaks JSON. Tests talk to the real server over HTTP through it.
export interface Reply<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export class Client {
  cookies = new Map<string, string>();
  constructor(
    readonly baseUrl: string,
    readonly origin: string = baseUrl,
  ) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.cookies.size) h.cookie = this.cookieHeader;
    if (method !== "GET" && method !== "HEAD" && !("origin" in h)) h.origin = this.origin;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      h["content-type"] ??= "application/json";
    }
    // A connection per request: a pooled keep-alive socket that the server closes at its idle timeout just
    // as the next request goes out fails that request before it is read ("fetch failed"), which a loaded
    // machine made happen in CI. Browsers retry such requests on their own; this client does not reuse.
    h.connection ??= "close";
    const res = await fetch(new URL(path, this.baseUrl), { method, headers: h, body: payload, redirect: "manual" }).catch((err: Error & { cause?: { code?: string; message?: string } }) => {
      // fetch says only "fetch failed": name the cause, so a failure in CI says what happened.
      throw new Error(`${method} ${path}: ${err.message} (${err.cause?.code ?? "no code"}: ${err.cause?.message ?? err.cause})`, { cause: err });
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>("GET", path, undefined, headers);
  }
  post<T = any>(path: string, body: unknown = {}, headers?: Record<string, string>) {
    return this.request<T>("POST", path, body, headers);
  }
  put<T = any>(path: string, body: unknown = {}, headers?: Record<string, string>) {
    return this.request<T>("PUT", path, body, headers);
  }
  delete<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>("DELETE", path, undefined, headers);
  }
}
