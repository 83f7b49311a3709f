export interface UrlCredentials {
  /** The URL without user:password. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

/**
 * Takes `user:password@` out of a broker URL, percent-decoded. mqtt.js splits the URL's credentials itself with a
 * greedy `^(.+):(.+)$`, so a password holding ':' lost its head to the user name; and its legacy parser throws
 * URIError on a bare '%'. Handing it a credential-free URL plus explicit options avoids both.
 */
export function splitUrlCredentials(raw: string): UrlCredentials {
  const url = new URL(raw);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  return { url: url.toString(), username, password };
}
