// Configuration text for the benchmark's programs: the nginx upstream, nginx and HAProxy as equivalent keep-alive
// reverse proxies (one worker/thread, no access log), and the Istio YAML that makes `isthmus proxy` one.

/** The fixed response body every target returns (through the upstream). */
export const BODY = 'isthmus bench upstream: hello\n';
/** Host/authority every request carries; the Isthmus route table matches it. */
export const SERVICE_HOST = 'upstream.bench.local';

function common(dir: string): string {
  return `
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 8192; multi_accept on; }
`;
}

function httpCommon(dir: string): string {
  return `
  access_log off;
  server_tokens off;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  http2_max_requests 1000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
`;
}

/** nginx as the upstream: HTTP/1.1 on `h1Port`, h2c (prior knowledge) on `h2Port`, a fixed 200 body. */
export function nginxUpstream(dir: string, h1Port: number, h2Port: number): string {
  return `${common(dir)}
http {${httpCommon(dir)}
  default_type text/plain;
  server {
    listen 127.0.0.1:${h1Port} reuseport backlog=4096;
    listen 127.0.0.1:${h2Port} http2 reuseport backlog=4096;
    location / { return 200 ${JSON.stringify(BODY)}; }
  }
}
`;
}

/** nginx as a keep-alive reverse proxy (HTTP/1.1 on `h1Port`, h2c on `h2Port`) to the upstream's HTTP/1.1 port. */
export function nginxProxy(dir: string, h1Port: number, h2Port: number, upstreamPort: number): string {
  return `${common(dir)}
http {${httpCommon(dir)}
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
  }
  server {
    listen 127.0.0.1:${h1Port} reuseport backlog=4096;
    listen 127.0.0.1:${h2Port} http2 reuseport backlog=4096;
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_buffering on;
    }
  }
}
`;
}

/** HAProxy as a keep-alive reverse proxy: one thread, connection reuse always, h2c on `h2Port`. */
export function haproxyConfig(h1Port: number, h2Port: number, upstreamPort: number): string {
  return `global
  nbthread 1
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 75s

frontend bench
  bind 127.0.0.1:${h1Port}
  bind 127.0.0.1:${h2Port} proto h2
  default_backend upstream

backend upstream
  server u1 127.0.0.1:${upstreamPort}
`;
}

/**
 * Istio YAML for `isthmus discovery`, one namespace per benchmarked proxy: the upstream as a ServiceEntry +
 * WorkloadEntry (service port = the sidecar's listener port, target port = the upstream's), plaintext to it, and a
 * Sidecar whose egress listener uses captureMode NONE bound to 127.0.0.1:<listenPort> so the load generator talks to
 * the sidecar directly. Everything is exported to its own namespace only, so proxies of two namespaces do not
 * bind each other's ports.
 */
export function isthmusMeshYaml(namespace: string, listenPort: number, upstreamPort: number): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: bench-upstream
  namespace: ${namespace}
spec:
  hosts: [${SERVICE_HOST}]
  exportTo: ['.']
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: ${listenPort}
    name: http
    protocol: HTTP
    targetPort: ${upstreamPort}
  workloadSelector:
    labels:
      app: bench-upstream
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: bench-upstream-1
  namespace: ${namespace}
spec:
  address: 127.0.0.1
  labels:
    app: bench-upstream
  ports:
    http: ${upstreamPort}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: bench-upstream
  namespace: ${namespace}
spec:
  host: ${SERVICE_HOST}
  exportTo: ['.']
  trafficPolicy:
    tls:
      mode: DISABLE
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: ${namespace}
spec:
  outboundTrafficPolicy:
    mode: REGISTRY_ONLY
  egress:
  - port:
      number: ${listenPort}
      protocol: HTTP
      name: http
    bind: 127.0.0.1
    captureMode: NONE
    hosts:
    - ./${SERVICE_HOST}
`;
}
