/**
 * Browsers send Origin on socket.io and WebSocket requests; without this check any site the user
 * visits could open a socket riding on the studio's session cookie. Clients that send no Origin
 * (old API clients, scripts) authenticate with a Bearer credential instead.
 */
export function isAllowedOrigin(origin: string | undefined, host: string | undefined, allowedOrigin: string): boolean {
  if (!origin) return true;
  if (origin === allowedOrigin) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
