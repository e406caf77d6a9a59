import { createUndiciHttpSender, type ClosableHttpSender } from '../undiciHttpSender';
import { startServer, type TestServer } from './testServer';

describe("the sender's typed summary of a response", () => {
  let server: TestServer;
  let sender: ClosableHttpSender;
  beforeAll(async () => {
    server = await startServer((req, res) => {
      if (req.url === '/xml') res.setHeader('content-type', 'Application/XML; charset=utf-8');
      if (req.url === '/bad') res.setHeader('content-type', 'not a type');
      res.statusCode = 500;
      res.end(req.url === '/big' ? 'x'.repeat(1000) : '<Error/>');
    });
    sender = createUndiciHttpSender({ timeoutMs: 5000, maxResponseBytes: 64, maxConnectionsPerOrigin: 2, allowPrivateDestinations: true });
  });
  afterAll(async () => {
    await sender.close();
    await server.close();
  });

  it('records the media type (lower case, no parameters) and the body length read', async () => {
    expect(await sender.send({ url: server.url('/xml'), headers: {}, body: '{}' })()).toMatchObject({
      kind: 'Response',
      status: 500,
      contentType: 'application/xml',
      bodyBytes: 8,
      bodyRead: 'Complete',
    });
  });

  it('leaves out a content type that is not a media type, and counts a capped body up to the cap', async () => {
    const bad = await sender.send({ url: server.url('/bad'), headers: {}, body: '{}' })();
    expect(bad).not.toHaveProperty('contentType');
    expect(await sender.send({ url: server.url('/big'), headers: {}, body: '{}' })()).toMatchObject({ bodyBytes: 64, bodyRead: 'Capped' });
  });
});
