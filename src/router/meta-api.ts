// The meta API of one realm: wamp.session.* and wamp.registration.* procedures and meta events.
// It joins the realm as an ordinary in-process session (role 'trusted', marked internal so it may
// use the reserved wamp.* namespace) and answers from read-only views of the realm.

import type { Dict } from '../wamp/message.js';
import { ErrorUri, CloseReason } from '../wamp/errors.js';
import { isValidUri } from '../wamp/uri.js';
import { TRUSTED_ROLE } from '../auth/authorizer.js';
import { ClientSession, WampError, type ProcedureHandler } from '../client/session.js';
import type { SessionFactory } from './transport.js';
import type { Realm, RealmObserver } from './realm.js';
import type { Session } from './session.js';
import type { Registration } from './registration.js';

function sessionDetails(s: Session): Dict {
  const info = s.transport.info;
  return {
    session: s.id,
    authid: s.authid,
    authrole: s.authrole,
    authmethod: s.authmethod,
    authprovider: s.authprovider,
    transport: { type: info.type, serializer: info.serializer, peer: info.peer, protocol: info.protocol ?? null },
  };
}

function registrationDetails(r: Registration): Dict {
  return { id: r.id, created: r.created, uri: r.uri, match: r.match, invoke: r.invoke };
}

/** Junction's addition to RegistrationDetails: each callee's load and the queue depth. */
function registrationLoad(r: Registration): Dict {
  return {
    ...registrationDetails(r),
    callees: r.callees.map((c) => ({
      session: c.session.id,
      concurrency: Number.isFinite(c.concurrency) ? c.concurrency : null,
      inflight: c.inflight,
    })),
    queued: r.queue.size,
  };
}

const isReserved = (uri: string) => uri.startsWith('wamp.');

export class MetaApi implements RealmObserver {
  private session: ClientSession | undefined;

  constructor(private readonly realm: Realm) {}

  async start(factory: SessionFactory): Promise<void> {
    this.session = await ClientSession.connect(factory, {
      realm: this.realm.name, role: TRUSTED_ROLE, authid: 'junction', name: 'meta-api', internal: true,
    });
    const procedures: Record<string, ProcedureHandler> = {
      'wamp.session.count': (args) => this.clientSessions(args[0]).length,
      'wamp.session.list': (args) => this.clientSessions(args[0]).map((s) => s.id),
      'wamp.session.get': (args) => sessionDetails(this.clientSession(args[0])),
      'wamp.session.kill': (args, kwargs, ctx) => {
        const id = args[0];
        if (id === ctx.details['caller']) throw new WampError(ErrorUri.noSuchSession, ['a session cannot kill itself']);
        const { reason, message } = this.killReason(kwargs);
        if (typeof id !== 'number' || !this.realm.kill(id, reason, message)) throw new WampError(ErrorUri.noSuchSession, [`no session ${String(id)}`]);
        return undefined;
      },
      'wamp.session.kill_by_authid': (args, kwargs, ctx) => this.killWhere(kwargs, ctx.details['caller'], (s) => s.authid === args[0]),
      'wamp.session.kill_by_authrole': (args, kwargs, ctx) => this.killWhere(kwargs, ctx.details['caller'], (s) => s.authrole === args[0]).length,
      'wamp.session.kill_all': (_args, kwargs, ctx) => this.killWhere(kwargs, ctx.details['caller'], () => true).length,
      'wamp.registration.list': () => {
        const out: Record<string, number[]> = { exact: [], prefix: [], wildcard: [] };
        for (const r of this.realm.dealer.registrations()) if (!isReserved(r.uri)) out[r.match]!.push(r.id);
        return out;
      },
      'wamp.registration.lookup': (args) => {
        const match = ((args[1] as Dict | undefined)?.['match'] as string | undefined) ?? 'exact';
        for (const r of this.realm.dealer.registrations()) if (r.uri === args[0] && r.match === match) return r.id;
        return null;
      },
      'wamp.registration.match': (args) => {
        const r = typeof args[0] === 'string' ? this.realm.dealer.match(args[0]) : undefined;
        return r && r.callees.length > 0 ? r.id : null;
      },
      'wamp.registration.get': (args) => registrationLoad(this.registration(args[0])),
      'wamp.registration.list_callees': (args, kwargs) => {
        const r = this.registration(args[0]);
        // details=true: Junction's per-callee load instead of bare session IDs.
        return kwargs['details'] === true ? registrationLoad(r)['callees'] : r.callees.map((c) => c.session.id);
      },
      'wamp.registration.count_callees': (args) => this.registration(args[0]).callees.length,
    };
    await Promise.all(Object.entries(procedures).map(([uri, handler]) =>
      this.session!.register(uri, handler, { disclose_caller: true })));
    this.realm.observer = this;
  }

  async stop(): Promise<void> {
    this.realm.observer = undefined;
    await this.session?.close();
  }

  // ---- RealmObserver: meta events ----

  sessionJoined(s: Session): void {
    if (!s.internal) this.publish('wamp.session.on_join', [sessionDetails(s)]);
  }
  sessionLeft(s: Session): void {
    if (!s.internal) this.publish('wamp.session.on_leave', [s.id, s.authid, s.authrole]);
  }
  registrationCreated(s: Session, r: Registration): void {
    if (!isReserved(r.uri)) this.publish('wamp.registration.on_create', [s.id, registrationDetails(r)]);
  }
  calleeAdded(s: Session, r: Registration): void {
    if (!isReserved(r.uri)) this.publish('wamp.registration.on_register', [s.id, r.id]);
  }
  calleeRemoved(s: Session, r: Registration): void {
    if (!isReserved(r.uri)) this.publish('wamp.registration.on_unregister', [s.id, r.id]);
  }
  registrationDeleted(sessionId: number, r: Registration): void {
    if (!isReserved(r.uri)) this.publish('wamp.registration.on_delete', [sessionId, r.id]);
  }
  registrationSaturated(r: Registration): void {
    this.publish('junction.registration.on_saturated', [r.id, registrationLoad(r)]);
  }
  queueFull(r: Registration, limit: number): void {
    this.publish('junction.registration.on_queue_full', [r.id, { ...registrationLoad(r), limit }]);
  }

  // ---- helpers ----

  private publish(topic: string, args: unknown[]): void {
    void this.session?.publish(topic, args).catch(() => {});
  }

  private clientSessions(filterRoles: unknown): Session[] {
    const roles = Array.isArray(filterRoles) ? filterRoles : undefined;
    const out: Session[] = [];
    for (const s of this.realm.sessions.values()) {
      if (s.internal) continue;
      if (roles && !roles.includes(s.authrole)) continue;
      out.push(s);
    }
    return out;
  }

  private clientSession(id: unknown): Session {
    const s = typeof id === 'number' ? this.realm.sessions.get(id) : undefined;
    if (!s || s.internal) throw new WampError(ErrorUri.noSuchSession, [`no session ${String(id)}`]);
    return s;
  }

  private registration(id: unknown): Registration {
    const r = typeof id === 'number' ? this.realm.dealer.registration(id) : undefined;
    if (!r || isReserved(r.uri)) throw new WampError(ErrorUri.noSuchRegistration, [`no registration ${String(id)}`]);
    return r;
  }

  private killReason(kwargs: Dict): { reason: string; message?: string } {
    const reason = kwargs['reason'] ?? CloseReason.killed;
    if (!isValidUri(reason)) throw new WampError(ErrorUri.invalidUri, [`invalid reason URI '${String(reason)}'`]);
    const message = typeof kwargs['message'] === 'string' ? kwargs['message'] : undefined;
    return { reason, message };
  }

  private killWhere(kwargs: Dict, callerId: unknown, pick: (s: Session) => boolean): number[] {
    const { reason, message } = this.killReason(kwargs);
    const killed: number[] = [];
    for (const s of this.clientSessions(undefined)) {
      if (s.id !== callerId && pick(s) && this.realm.kill(s.id, reason, message)) killed.push(s.id);
    }
    return killed;
  }
}
