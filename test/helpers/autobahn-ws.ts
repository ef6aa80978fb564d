// An Autobahn|JS client (npm autobahn) over WebSocket in Node, joined to realm1: the other party
// of tests whose client under test speaks something else (long-poll in a browser, curl).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const autobahn = require('autobahn');

export interface AutobahnClient {
  session: any;
  connection: any;
}

/** Opens and joins; rejects when the connection closes before it joined. No reconnects. */
export function autobahnWs(url: string, realm = 'realm1'): Promise<AutobahnClient> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ url, realm, max_retries: 0 });
    connection.onopen = (session: any) => resolve({ session, connection });
    connection.onclose = (reason: string, details: unknown) => {
      reject(new Error(`connection closed: ${reason} ${JSON.stringify(details)}`));
      return true; // no reconnect
    };
    connection.open();
  });
}
