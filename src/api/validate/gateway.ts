// Istio's Gateway rules: servers, ports, protocols, hosts (`ns/host`), bind, and server TLS modes (shared with
// Sidecar ingress TLS). https://istio.io/latest/docs/reference/config/networking/gateway/
import { joinPath, sub, type ErrorList } from '../errors.js';
import type { Gateway, Port, ServerTLSSettings } from '../types/networking.js';
import { checkPort, each, isIPAddress, isIstioLabel } from './common.js';
import { isHTTPProtocol, isTLSProtocol, namespaceHostErrors, parseProtocol, UNIX_PREFIX, unixAddressError } from './rules.js';

const CIPHERS = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA', 'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA', 'AES256-SHA', 'DES-CBC3-SHA',
]);

/** Istio's validateTLSOptions for server-side TLS (Gateway servers, Sidecar ingress listeners). */
export function checkServerTLS(t: ServerTLSSettings | undefined, path: string, errs: ErrorList): void {
  if (!t) return;
  if ((t.minProtocolVersion === 'TLSV1_0' || t.minProtocolVersion === 'TLSV1_1') && (t.cipherSuites?.length ?? 0) === 0) {
    errs.warn(joinPath(path, 'minProtocolVersion'), 'TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.');
  }
  const seen = new Set<string>();
  each(t.cipherSuites, joinPath(path, 'cipherSuites'), (c, p) => {
    const advanced = c !== '' && !/^[A-Za-z0-9]/.test(c);
    if (c !== '' && c !== 'ALL' && !advanced && !CIPHERS.has(c)) errs.warn(p, `ignoring invalid cipher suite: ${c}`);
    else if (seen.has(c)) errs.warn(p, `ignoring duplicate cipher suite: ${c}`);
    seen.add(c);
  });
  const mode = t.mode ?? 'PASSTHROUGH';
  if (mode === 'ISTIO_MUTUAL') {
    if (t.serverCertificate) errs.add(joinPath(path, 'serverCertificate'), 'ISTIO_MUTUAL TLS cannot have associated server certificate');
    if (t.privateKey) errs.add(joinPath(path, 'privateKey'), 'ISTIO_MUTUAL TLS cannot have associated private key');
    if (t.caCertificates) errs.add(joinPath(path, 'caCertificates'), 'ISTIO_MUTUAL TLS cannot have associated CA bundle');
    if (t.credentialName) errs.add(joinPath(path, 'credentialName'), 'ISTIO_MUTUAL TLS cannot have associated credentialName');
    return;
  }
  if ((mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') && (t.caCrl || t.serverCertificate || t.privateKey || t.caCertificates || t.credentialName)) {
    errs.warn(path, `${mode} mode does not use certificates, they will be ignored`);
  }
  const hasCredential = Boolean(t.credentialName) || (t.credentialNames?.length ?? 0) > 0;
  const hasCertList = (t.tlsCertificates?.length ?? 0) > 0;
  if ((mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') && (hasCredential || hasCertList)) {
    if (t.caCrl && hasCredential) errs.add(joinPath(path, 'caCrl'), 'CRL is not supported with credentialName. CRL has to be specified in the credential');
    each(t.tlsCertificates, joinPath(path, 'tlsCertificates'), (c, p) => {
      if (!c.serverCertificate) errs.add(joinPath(p, 'serverCertificate'), `${mode} TLS requires a server certificate`);
      if (!c.privateKey) errs.add(joinPath(p, 'privateKey'), `${mode} TLS requires a private key`);
    });
    return;
  }
  if (mode === 'SIMPLE') {
    if (!t.serverCertificate) errs.add(joinPath(path, 'serverCertificate'), 'SIMPLE TLS requires a server certificate (or credentialName)');
    if (!t.privateKey) errs.add(joinPath(path, 'privateKey'), 'SIMPLE TLS requires a private key (or credentialName)');
  } else if (mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') {
    if (!t.serverCertificate) errs.add(joinPath(path, 'serverCertificate'), 'MUTUAL TLS requires a server certificate (or credentialName)');
    if (!t.privateKey) errs.add(joinPath(path, 'privateKey'), 'MUTUAL TLS requires a private key (or credentialName)');
    if (!t.caCertificates) errs.add(joinPath(path, 'caCertificates'), 'MUTUAL TLS requires a client CA bundle (or credentialName)');
  }
  if (t.caCrl && mode === 'SIMPLE') errs.add(joinPath(path, 'caCrl'), 'CRL is not supported with SIMPLE TLS');
}

function checkServerPort(port: Port | undefined, bind: string | undefined, path: string, errs: ErrorList): boolean {
  if (!port) return false;
  let ok = true;
  if (port.protocol !== undefined && !parseProtocol(port.protocol)) {
    errs.add(joinPath(path, 'protocol'), `invalid protocol ${JSON.stringify(port.protocol)}, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP`);
    ok = false;
  }
  if (port.number !== undefined && (port.number > 0 || !bind?.startsWith(UNIX_PREFIX))) checkPort(port.number, joinPath(path, 'number'), errs);
  if (port.targetPort !== undefined && port.targetPort > 0) errs.add(joinPath(path, 'targetPort'), 'targetPort has no impact on Gateways');
  if (!port.name) errs.add(joinPath(path, 'name'), 'port name must be set');
  else if (!isIstioLabel(port.name)) errs.add(joinPath(path, 'name'), `invalid port name: ${port.name}`);
  return ok && port.protocol !== undefined;
}

export function validateGateway(raw: unknown, errs: ErrorList): void {
  const gw = raw as Gateway;
  const servers = gw.servers ?? [];
  if (gw.servers !== undefined && servers.length === 0) errs.add('spec.servers', 'gateway must have at least one server');
  const portNames = new Map<string, number>();
  each(servers, 'spec.servers', (s, p) => {
    if (s.hosts !== undefined && s.hosts.length === 0) errs.add(joinPath(p, 'hosts'), 'server config must contain at least one host');
    each(s.hosts, joinPath(p, 'hosts'), (h, hp) => {
      for (const e of namespaceHostErrors(h, true)) errs.add(hp, e);
    });
    const portOk = checkServerPort(s.port, s.bind, joinPath(p, 'port'), errs);
    if (s.bind !== undefined && s.bind !== '') {
      if (s.bind.startsWith(UNIX_PREFIX)) {
        const e = unixAddressError(s.bind.slice(UNIX_PREFIX.length));
        if (e) errs.add(joinPath(p, 'bind'), e);
        if (s.port?.number) errs.add(sub(p, 'port.number'), 'port number must be 0 for unix domain socket');
      } else if (!isIPAddress(s.bind)) errs.add(joinPath(p, 'bind'), `${s.bind} is not a valid IP`);
    }
    checkServerTLS(s.tls, joinPath(p, 'tls'), errs);
    if (portOk && s.port) {
      const proto = s.port.protocol;
      if (isTLSProtocol(proto) && !s.tls) errs.add(joinPath(p, 'tls'), 'server must have TLS settings for HTTPS/TLS protocols');
      else if (!isTLSProtocol(proto) && s.tls) {
        if (isHTTPProtocol(proto)) {
          const t = s.tls;
          const onlyRedirect = (t.mode === undefined || t.mode === 'PASSTHROUGH') && !t.caCertificates && !t.privateKey && !t.serverCertificate;
          if (!onlyRedirect) errs.add(joinPath(p, 'tls'), 'server cannot have TLS settings for plain text HTTP ports');
        } else errs.add(joinPath(p, 'tls'), 'server cannot have TLS settings for non HTTPS/TLS ports');
      }
      if (!isHTTPProtocol(proto) && s.tls?.httpsRedirect) errs.warn(sub(p, 'tls.httpsRedirect'), 'tls.httpsRedirect should only be used with http servers');
    }
    const name = s.port?.name;
    if (name !== undefined) {
      const prev = portNames.get(name);
      if (prev !== undefined) errs.add(sub(p, 'port.name'), `port names in servers must be unique: duplicate name ${name} (also in spec.servers[${prev}])`);
      else portNames.set(name, Number(p.slice(p.lastIndexOf('[') + 1, -1)));
    }
    if (s.name !== undefined && s.name !== '' && !isIstioLabel(s.name)) errs.warn(joinPath(p, 'name'), `server name ${JSON.stringify(s.name)} is not a DNS label`);
  });
}
