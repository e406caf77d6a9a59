import net from 'node:net';
import { type AzuritePorts, connectionStringFor } from '../azurite';

/**
 * Storage that is down for as long as a test needs it. A port that was free a moment ago is not
 * enough: under a full test run another file's host or receiver can take it meanwhile, and the
 * "dead" storage then answers (a CI run once saw another host's 404 instead of an outage). Here each
 * port stays held by a listener that drops every connection the moment it arrives, so clients see
 * storage that does not answer, and nothing else can bind the port until `close`.
 */
export type DeadStorage = {
  readonly ports: AzuritePorts;
  readonly connectionString: string;
  close(): Promise<void>;
};

const droppingListener = (): Promise<net.Server> =>
  new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });

const portOf = (server: net.Server): number => {
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('listener has no port');
  return address.port;
};

export const deadStorage = async (): Promise<DeadStorage> => {
  const [blob, queue, table] = [await droppingListener(), await droppingListener(), await droppingListener()];
  const servers = [blob, queue, table];
  const ports: AzuritePorts = { blob: portOf(blob), queue: portOf(queue), table: portOf(table) };
  return {
    ports,
    connectionString: connectionStringFor(ports),
    close: async () => {
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
};

/** Runs `use` against storage that is down, and frees the ports after it, whatever it does. */
export const withDeadStorage = async <A>(use: (connectionString: string) => Promise<A>): Promise<A> => {
  const dead = await deadStorage();
  try {
    return await use(dead.connectionString);
  } finally {
    await dead.close();
  }
};
