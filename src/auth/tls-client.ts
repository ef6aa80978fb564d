// TLS client-certificate authentication, static principals: which principal a verified client
// certificate is. Crossbar matches the certificate's SHA-1 fingerprint (`certificate-sha1`);
// a principal without one is the certificate whose subject CN is its authid.

import type { TlsPrincipal } from '../config/types.js';

export function tlsPrincipalFor(principals: Record<string, TlsPrincipal>, sha1: string, cn: string | undefined): { authid: string; principal: TlsPrincipal } | undefined {
  for (const [authid, principal] of Object.entries(principals)) {
    if (principal.certificateSha1 !== undefined ? principal.certificateSha1 === sha1 : cn !== undefined && authid === cn) return { authid, principal };
  }
  return undefined;
}
