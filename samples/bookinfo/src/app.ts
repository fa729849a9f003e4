// Builds and starts one Bookinfo service from its settings; used by main.ts and by tests.
import { startServer } from './common/http.js';
import type { Handler, RunningServer } from './common/http.js';
import type { UpstreamClient } from './common/upstream.js';
import type { AppConfig } from './config.js';
import { createDetailsHandler } from './details.js';
import { createProductpageHandler } from './productpage/app.js';
import { createRatingsHandler } from './ratings.js';
import { createReviewsHandler } from './reviews.js';
import type { ReviewsVersion } from './reviews.js';

export interface RunningApp extends RunningServer {
  readonly config: AppConfig;
}

export async function startBookinfoService(config: AppConfig, log: (line: string) => void = (l) => process.stdout.write(l)): Promise<RunningApp> {
  // undici (≈20 MB of RSS) is loaded only by the services that call others
  let client: UpstreamClient | undefined;
  const newClient = async (): Promise<UpstreamClient> => {
    const { UpstreamClient } = await import('./common/upstream.js');
    client = new UpstreamClient({ proxy: config.proxy, targets: config.targets });
    return client;
  };
  let handler: Handler;
  switch (config.service) {
    case 'productpage':
      handler = createProductpageHandler({ client: await newClient() });
      break;
    case 'details':
      handler = createDetailsHandler();
      break;
    case 'ratings':
      handler = createRatingsHandler();
      break;
    case 'reviews':
      handler = createReviewsHandler({
        version: config.version as ReviewsVersion,
        podName: config.workloadName,
        clusterName: config.clusterName,
        client: await newClient(),
      });
      break;
  }
  let server: RunningServer;
  try {
    server = await startServer(handler, config.bind, {
      label: `${config.service}-${config.version}`,
      ...(config.accessLog ? { accessLog: log } : {}),
    });
  } catch (err) {
    await client?.close();
    throw err;
  }
  return {
    server: server.server,
    host: server.host,
    port: server.port,
    url: server.url,
    config,
    close: async () => {
      await server.close();
      await client?.close();
    },
  };
}
