/**
 * Person to person from the web page (issue 14): `POST /api/send` hands a file or folder of the
 * download folder to whoever types the code it answers with; `POST /api/receive` takes a code,
 * finds the sender and shows its offer, and only `POST /api/receive/:id/accept` lets anything be
 * written (into the download folder). The page polls `GET /api/send/:id` and
 * `GET /api/receive/:id` for live state; `DELETE` stops either. The transfers themselves are
 * jobs (routes-handoff-jobs.ts) around the handoff library.
 *
 * Paths come from the request, so each is resolved through symlinks and must stay inside the
 * download root (`DAEMON_PATH_OUTSIDE` otherwise), and is scanned for private files first, as
 * for sharing: findings refuse the send (422 `SEND_SENSITIVE`, with the list) unless
 * `includeSensitive` is true.
 */
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type HandoffCode, parseCode } from '../handoff/index.js';
import { scanSensitive } from '../storage/sensitive-scan.js';
import { systemScheduler } from '../util/clock.js';
import { PeerdropError } from '../util/errors.js';
import { type RouteContext, sendError } from './http-common.js';
import { type HandoffJobOptions, HandoffJobs, handoffOptionsFromEnv } from './routes-handoff-jobs.js';
import { resolveInsideRoot } from './routes-share.js';
import { refuseSensitive } from './sensitive-refusal.js';

const SendBody = Type.Object(
  {
    paths: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), {
      minItems: 1,
      maxItems: 64,
      description: 'inside the download folder; one file or folder (a folder keeps its tree)',
    }),
    includeSensitive: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);
const ReceiveBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 200, description: 'like 7-guitar-orbit' }) },
  { additionalProperties: false },
);
const JobParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{16}$' }) });
type JobParams = Static<typeof JobParams>;

/** How long `POST /api/receive` waits for the offer before answering `finding` (the page polls on). */
const OFFER_WAIT_MS = 15_000;

const ERROR_STATUS: Readonly<Record<string, number>> = {
  HANDOFF_BAD_CODE: 400,
  HANDOFF_BUSY: 429,
  SEND_ONE_PATH: 400,
  CREATE_EMPTY: 400,
};

/** Library errors with a stable code as 4xx answers; anything else goes to the error handler. */
function replyError(reply: FastifyReply, err: unknown) {
  if (err instanceof PeerdropError) {
    const status = ERROR_STATUS[err.code] ?? (/^(DAEMON_|CREATE_|STORAGE_)/.test(err.code) ? 400 : 500);
    if (err.code === 'DAEMON_NOT_FOUND') return sendError(reply, 404, err.code, err.message);
    if (status < 500) return sendError(reply, status, err.code, err.message);
  }
  throw err;
}

const noJob = (reply: FastifyReply, kind: string) =>
  sendError(reply, 404, 'HANDOFF_NO_JOB', `no such ${kind} (it may have ended long ago)`);

function waitOrTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const cancel = systemScheduler.setTimer(ms, resolve);
    p.then(() => {
      cancel();
      resolve();
    });
  });
}

export function registerHandoffRoutes(
  app: FastifyInstance,
  ctx: RouteContext,
  options: HandoffJobOptions = handoffOptionsFromEnv(join(ctx.daemon.paths.dataDir, 'handoff')),
): void {
  const { daemon } = ctx;
  const jobs = new HandoffJobs(options);
  const tags = ['handoff'];
  app.addHook('onClose', () => jobs.close());

  app.post(
    '/api/send',
    { schema: { tags, summary: 'send a file or folder with a short code (peerdrop send)', body: SendBody } },
    async (request, reply) => {
      const body = request.body as Static<typeof SendBody>;
      try {
        if (body.paths.length > 1)
          throw new PeerdropError(
            'SEND_ONE_PATH',
            'send one file or folder at a time (put several into a folder and send that)',
          );
        const real = await resolveInsideRoot(daemon.downloadRoot, body.paths[0]!, false);
        const scan = await scanSensitive(real);
        if (scan.findings.length > 0 && !body.includeSensitive) return refuseSensitive(reply, scan, 'send');
        return reply.code(201).send(await jobs.send(real, scan.findings));
      } catch (err) {
        return replyError(reply, err);
      }
    },
  );

  app.get('/api/send', { schema: { tags, summary: 'sends, running and recent' } }, async () => ({
    sends: jobs.listSends(),
  }));

  app.post(
    '/api/receive',
    {
      schema: {
        tags,
        summary: 'find the sender of a code and get its offer (nothing is written until accept)',
        body: ReceiveBody,
      },
    },
    async (request, reply) => {
      let code: HandoffCode;
      try {
        code = parseCode((request.body as Static<typeof ReceiveBody>).code);
        const root = await realpath(daemon.downloadRoot);
        const job = await jobs.receive(code, root);
        await waitOrTimeout(job.whenFound(), OFFER_WAIT_MS);
        return reply.code(201).send(job.status());
      } catch (err) {
        return replyError(reply, err);
      }
    },
  );

  app.get('/api/receive', { schema: { tags, summary: 'receives, running and recent' } }, async () => ({
    receives: jobs.listReceives(),
  }));

  for (const [action, isAccepted] of [
    ['accept', true],
    ['decline', false],
  ] as const)
    app.post(
      `/api/receive/:id/${action}`,
      { schema: { tags, summary: `${action} the offer`, params: JobParams } },
      async (request, reply) => {
        const job = jobs.receiveJob((request.params as JobParams).id);
        if (!job) return noJob(reply, 'receive');
        if (!job.decide(isAccepted))
          return sendError(
            reply,
            409,
            'HANDOFF_NO_OFFER',
            `there is no offer waiting (the receive is ${job.state})`,
          );
        return job.status();
      },
    );

  // The state of one job, and stopping it (a receive keeps what arrived, to continue later).
  for (const kind of ['send', 'receive'] as const) {
    const find = (request: FastifyRequest) => {
      const { id } = request.params as JobParams;
      return kind === 'send' ? jobs.sendJob(id) : jobs.receiveJob(id);
    };
    const params = JobParams;
    app.get(
      `/api/${kind}/:id`,
      { schema: { tags, summary: `state of a ${kind}`, params } },
      async (request, reply) => {
        const job = find(request);
        return job ? job.status() : noJob(reply, kind);
      },
    );
    app.delete(
      `/api/${kind}/:id`,
      { schema: { tags, summary: `stop a ${kind}`, params } },
      async (request, reply) => {
        const job = find(request);
        if (!job) return noJob(reply, kind);
        await job.cancel();
        return job.status();
      },
    );
  }
}
