import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AeflowError, type ErrorCode, isAeflowError } from '../errors.js';
import { type InputRows, isInputError } from '../pipeline/modelInput.js';
import { type BatchingOptions, type BatchKind, type BatchReport, MicroBatcher } from './microBatcher.js';
import { type Answer, type AnswerFormat, AnswerWriter } from './answers.js';
import { operations } from './operations.js';
import type { ServedModel } from './servedModel.js';

export interface ServerOptions {
  readonly batching: Omit<BatchingOptions, 'maxQueuedRows'>;
  /** The largest request body, in bytes. */
  readonly bodyLimit: number;
  /** Told of every batch that failed (a worker that died, say). */
  readonly onBatchError?: (r: BatchReport) => void;
}

/** The server and what it knows of its own load. */
export interface ModelServer {
  readonly app: FastifyInstance;
  readonly batcher: MicroBatcher;
  /** Requests received and not yet answered. */
  readonly inFlight: () => number;
  /** From now on, requests are refused (503) while those in flight are answered. */
  drain(): Promise<void>;
}

/** An error with the HTTP status it is answered with. */
type Answered = Error & { statusCode?: number; code?: string };

/** Fastify's own errors on a request, as aeflow's codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'REQUEST_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REQUEST_INVALID',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST_INVALID',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REQUEST_INVALID',
  FST_ERR_CTP_INVALID_JSON_BODY: 'REQUEST_INVALID',
};

const HINTS: Partial<Record<ErrorCode, string>> = {
  REQUEST_TOO_LARGE: "send fewer rows per request (the limit is the server's --body-limit)",
  REQUEST_INVALID: 'send JSON {"rows": [[…], …]} (Content-Type: application/json) or CSV text (Content-Type: text/csv)',
};

/**
 * The HTTP face of a served model (Fastify): POST /encode, /reconstruct and /score take JSON rows or CSV text and
 * answer per row, every request's rows joining a micro-batch (see MicroBatcher); GET /healthz and /model describe
 * it. Every error is answered as {"error": {"code", "message", "hint"}}: 4xx for what the request got wrong, 5xx
 * for the server's side (a worker that died, a full queue, shutting down).
 */
export function modelServer(model: ServedModel, options: ServerOptions): ModelServer {
  const { inference } = model;
  const batching = { ...options.batching, maxQueuedRows: 64 * Math.max(options.batching.maxRows, 256) };
  const report = (r: BatchReport) => {
    if (r.error) options.onBatchError?.(r);
  };
  const batcher = new MicroBatcher(inference.inputs, 2 * inference.workers, batching, { allocate: inference.allocate, release: inference.release }, report);
  // The body is only read (its rows), never merged into other objects: the scans for prototype poisoning, a
  // large part of parsing a 256-row body, guard against nothing here.
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit,
    return503OnClosing: false,
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
  });
  let inFlight = 0;
  let draining = false;
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addHook('onRequest', async (req, reply) => {
    // Requests for the model: a health check does not count itself.
    if (req.method === 'POST') {
      inFlight++;
      reply.raw.once('close', () => inFlight--);
    }
    if (draining)
      throw answered(new AeflowError('SERVER_BUSY', 'the server is shutting down', 'send the request to another server, or retry once it is back'), 503);
  });
  // Connections still open at shutdown close after their answer: the server's close waits for them.
  app.addHook('onSend', async (_req, reply) => {
    if (draining) reply.header('connection', 'close');
  });
  app.setErrorHandler((e: Answered, _req, reply) => sendError(reply, e, options.bodyLimit));
  app.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      answered(new AeflowError('REQUEST_INVALID', `no route ${req.method} ${req.url}`, 'POST /encode, /reconstruct, /score; GET /healthz, /model'), 404),
    ),
  );
  routes(app, model, batcher);
  app.get('/healthz', async () => ({
    status: draining ? 'draining' : 'ok',
    workers: inference.workers,
    in_flight: inFlight,
    batches: batcher.done.batches,
    rows: batcher.done.rows,
  }));
  app.get('/model', async () => ({ ...model.describe(), batching: { max_rows: batching.maxRows, max_delay_ms: batching.maxDelayMs } }));
  return {
    app,
    batcher,
    inFlight: () => inFlight,
    async drain() {
      draining = true;
      await app.close();
    },
  };
}

function routes(app: FastifyInstance, model: ServedModel, batcher: MicroBatcher): void {
  const ops = operations(model);
  const writer = new AnswerWriter(model);
  const answer = async <R>(req: FastifyRequest, kind: BatchKind<R>): Promise<R> => {
    const rows = await readRows(model, req);
    try {
      return await batcher.submit(kind, rows.x, rows.rows);
    } catch (e) {
      throw answered(e, isAeflowError(e) && e.code === 'SERVER_BUSY' ? 503 : 500);
    }
  };
  const send = (reply: FastifyReply, a: Answer) => reply.type(a.type).send(a.body);
  app.post('/encode', async (req, reply) => send(reply, writer.encode(await answer(req, ops.encode), formatOf(req))));
  app.post('/reconstruct', async (req, reply) => send(reply, writer.reconstruct(await answer(req, ops.reconstruct), formatOf(req))));
  app.post('/score', async (req, reply) => send(reply, writer.score(await answer(req, ops.score), formatOf(req))));
}

/** CSV answers for a request that accepts text/csv (and not JSON first), else JSON. */
function formatOf(req: FastifyRequest): AnswerFormat {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/csv') && !/^\s*application\/json/.test(accept) ? 'csv' : 'json';
}

/** A request's rows: JSON {"rows": …}, or CSV text (with a header line unless ?header=false). */
async function readRows(model: ServedModel, req: FastifyRequest): Promise<InputRows> {
  try {
    const body = req.body;
    if (Buffer.isBuffer(body)) {
      const header = (req.query as { header?: string }).header !== 'false';
      return await model.input.csv(body, 'request', header);
    }
    if (body && typeof body === 'object' && !Array.isArray(body) && 'rows' in body) return await model.input.json(body.rows);
    throw new AeflowError('REQUEST_INVALID', 'the body is not {"rows": [[…], …]}', HINTS.REQUEST_INVALID);
  } catch (e) {
    throw answered(e, isInputError(e) ? 400 : 500);
  }
}

function answered(e: unknown, status: number): Answered {
  const err = (e instanceof Error ? e : new Error(String(e))) as Answered;
  err.statusCode = status;
  return err;
}

function sendError(reply: FastifyReply, e: Answered, bodyLimit?: number): FastifyReply {
  const status = e.statusCode ?? 500;
  const fastifyCode = e.code ? FASTIFY_CODES[e.code] : undefined;
  const code: string = isAeflowError(e) ? e.code : (fastifyCode ?? (status < 500 ? 'REQUEST_INVALID' : 'INTERNAL'));
  const limit = code === 'REQUEST_TOO_LARGE' && bodyLimit ? ` (this server takes up to ${+(bodyLimit / 1024 / 1024).toFixed(1)} MB)` : '';
  const hint = isAeflowError(e) ? e.hint : HINTS[code as ErrorCode] && `${HINTS[code as ErrorCode]}${limit}`;
  return reply.status(status).send({ error: { code, message: e.message, ...(hint ? { hint } : {}) } });
}
