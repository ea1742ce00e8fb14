export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

export interface Credentials {
  user: string;
  password: string;
}

/** fetch with optional Basic credentials; redirects are returned, not followed. */
export function request(
  url: string,
  options: { as?: Credentials; method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.as) headers.authorization = basic(options.as.user, options.as.password);
  return fetch(url, {
    method: options.method ?? 'GET',
    headers,
    redirect: 'manual',
    ...(options.body === undefined ? {} : { body: options.body }),
  });
}
