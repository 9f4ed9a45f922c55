/**
 * The one 422 reply for "this looks private" (routes-share.ts and routes-handoff.ts): both
 * scan what is about to leave the machine and refuse with the same shape, so the web page
 * shows one confirmation dialog for a share and a send alike.
 */
import type { FastifyReply } from 'fastify';
import type { ScanResult } from '../storage/sensitive-scan.js';

/** `verb` is what the user asked for ('share', 'send'); the code is `<VERB>_SENSITIVE`. */
export function refuseSensitive(reply: FastifyReply, scan: ScanResult, verb: 'share' | 'send'): FastifyReply {
  return reply.code(422).send({
    code: `${verb.toUpperCase()}_SENSITIVE`,
    message: `${scan.findings.length} item(s) look private; confirm with includeSensitive to ${verb} anyway`,
    findings: scan.findings,
    isTruncated: scan.isTruncated,
  });
}
