// Realm assignment at authentication (issue 16), with Autobahn|Python written as Crossbar's docs
// show: a principal's `realm` is the only realm it may join and is given to a HELLO that names
// none; a dynamic authenticator's returned `realm` is the realm the session joins (refused with
// wamp.error.no_such_realm when there is no such realm).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestNode, service, type TestNode } from '../helpers/node.js';
import { allowAll } from '../helpers/core.js';
import { runAuthPeer, runTwistedComponent } from '../helpers/python-auth.js';
import { ClientSession, Result } from '../../src/client/client-session.js';
import type { AuthConfig, RealmConfig } from '../../src/config/types.js';



const STATIC: AuthConfig = {
  ticket: { type: 'static', principals: { 'r2-user': { ticket: 't2', role: 'device', realm: 'realm2' }, 'any-user': { ticket: 't1', role: 'device' } } },
};
const DYNAMIC: AuthConfig = { ticket: { type: 'dynamic', authenticator: 'com.example.authenticate', authenticatorRealm: 'realm1' } };
const realm = (name: string): RealmConfig => ({ name, roles: [allowAll('device'), allowAll('admin')], store: { type: 'memory', limit: 10, callQueue: [], eventHistory: [] } });

describe('realm assignment at authentication, with Autobahn|Python', () => {
  let node: TestNode;
  const sessions: ClientSession[] = [];

  beforeAll(async () => {
    node = await startTestNode({
      realms: [realm('realm1'), realm('realm2')],
      listener: { websocket: { '/ws': service({ auth: STATIC }) }, rawsocket: service({ auth: DYNAMIC }) },
    });
    for (const name of ['realm1', 'realm2']) {
      const s = await ClientSession.connect(node.node.router, { realm: name, role: 'admin', name: `echo-${name}` });
      await s.register('test.echo', (args) => new Result([`${name}: ${String(args[0])}`]));
      sessions.push(s);
    }
    await sessions[0]!.register('com.example.authenticate', (args) => {
      const [, authid, details] = args as [string | null, string, { ticket: string }];
      if (details.ticket !== 'ok') throw Object.assign(new Error('denied'), { uri: 'wamp.error.not_authorized' });
      if (authid === 'to-realm2') return { role: 'device', realm: 'realm2' };
      if (authid === 'to-nowhere') return { role: 'device', realm: 'nowhere' };
      return 'device';
    });
  });
  afterAll(async () => {
    for (const s of sessions) await s.close();
    await node?.stop();
  });

  it('a static principal with a realm: a HELLO without a realm joins it; a HELLO naming another realm is refused', async () => {
    const ws = ['--port', String(node.port), '--transport', 'ws', '--method', 'ticket'];
    const noRealm = await runAuthPeer([...ws, '--realm', 'none', '--authid', 'r2-user', '--secret', 't2']);
    expect(noRealm).toMatchObject({ welcome: { realm: 'realm2', authid: 'r2-user', authrole: 'device' }, echo: 'realm2: hello' });
    const own = await runAuthPeer([...ws, '--realm', 'realm2', '--authid', 'r2-user', '--secret', 't2']);
    expect(own).toMatchObject({ welcome: { realm: 'realm2' } });
    const other = await runAuthPeer([...ws, '--realm', 'realm1', '--authid', 'r2-user', '--secret', 't2']);
    expect(other).toMatchObject({ abort: 'wamp.error.not_authorized' });
    // A principal without a realm may join any realm with its role, but a HELLO must then name one.
    expect(await runAuthPeer([...ws, '--realm', 'realm1', '--authid', 'any-user', '--secret', 't1'])).toMatchObject({ welcome: { realm: 'realm1' } });
    expect(await runAuthPeer([...ws, '--realm', 'none', '--authid', 'any-user', '--secret', 't1'])).toMatchObject({ abort: 'wamp.error.no_such_realm' });
  });

  it("a dynamic authenticator's returned realm is the realm joined; a realm that does not exist is refused", async () => {
    const raw = ['--port', String(node.port), '--transport', 'rawsocket', '--method', 'ticket', '--secret', 'ok'];
    const moved = await runAuthPeer([...raw, '--realm', 'realm1', '--authid', 'to-realm2']);
    expect(moved).toMatchObject({ welcome: { realm: 'realm2', authid: 'to-realm2' }, echo: 'realm2: hello' });
    const assigned = await runAuthPeer([...raw, '--realm', 'none', '--authid', 'to-realm2']);
    expect(assigned).toMatchObject({ welcome: { realm: 'realm2' } });
    const nowhere = await runAuthPeer([...raw, '--realm', 'realm1', '--authid', 'to-nowhere']);
    expect(nowhere).toMatchObject({ abort: 'wamp.error.no_such_realm' });
    const stays = await runAuthPeer([...raw, '--realm', 'realm1', '--authid', 'plain']);
    expect(stays).toMatchObject({ welcome: { realm: 'realm1' }, echo: 'realm1: hello' });
  });

  it('Autobahn|Python (Twisted Component, realm=None): the principal\'s realm is assigned; another realm is refused', async () => {
    const base = ['--url', node.wsUrl, '--method', 'ticket', '--authid', 'r2-user', '--secret', 't2'];
    expect(await runTwistedComponent([...base, '--realm', 'none'])).toMatchObject({ welcome: { realm: 'realm2', authid: 'r2-user' }, echo: 'realm2: hello' });
    expect(await runTwistedComponent([...base, '--realm', 'realm1'])).toMatchObject({ abort: 'wamp.error.not_authorized' });
  });
});
