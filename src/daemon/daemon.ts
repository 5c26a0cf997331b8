/**
 * chatd's lifecycle and wiring: it builds the parts (peer slot, admission, event feed, reconnect
 * policy, control handlers) around one history, binds the peer port and the control socket, and
 * stops them all.
 */
import { randomUUID } from 'node:crypto';
import net, { type Server } from 'node:net';
import type { SecureContext } from 'node:tls';
import { DEFAULT_ACCEPT_MODE, type StatusResult } from '../control/protocol.ts';
import { startControlServer, type ControlServer } from '../control/server.ts';
import type { HistoryStore } from '../history/store.ts';
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import { dialAddresses, formatAddress } from '../peer/address.ts';
import { DEFAULT_KEEPALIVE } from '../peer/keepalive.ts';
import { createPeerContext } from '../peer/secure-transport.ts';
import { listen } from '../peer/tcp.ts';
import { HANDSHAKE_TIMEOUT_MS } from '../wire/limits.ts';
import { DAEMON_STOPPING_REASON } from './close-reason.ts';
import { redial, type ConnectContext } from './connect-handler.ts';
import { controlHandlers } from './control-handlers.ts';
import { EventFeed } from './event-feed.ts';
import { Gatekeeper } from './gatekeeper.ts';
import { LastPeerFile } from './last-peer.ts';
import type { Logger } from './logger.ts';
import { Outbox } from './outbox.ts';
import { PeerSlot } from './peer-slot.ts';
import { Reconnector } from './reconnect.ts';
import { RECONNECT_MAX_DELAY_MS } from './reconnect-backoff.ts';
import { ResumableTransfers } from './resumable-transfers.ts';
import { PEER_TRANSFER_EVENTS_PER_MINUTE } from './peer-content.ts';
import { WindowBudget } from './window-budget.ts';
import { CompletedTransfers } from './completed-transfers.ts';
import { PARTIAL_MAX_AGE_MS, partialSweeper, STALE_PARTIAL_SWEEP_MS } from './stale-partials.ts';
import { TransferRecordFile } from './transfer-records.ts';
import type { DaemonConfig } from './daemon-config.ts';

export type { DaemonConfig } from './daemon-config.ts';

/**
 * chatd: one peer listener, at most one connected peer (the PeerSlot), the control socket, and the
 * history. Everything a peer sends reaches the daemon only through PeerSession, already validated.
 */
export class ChatDaemon {
  private readonly config: DaemonConfig;
  private readonly log: Logger;
  private readonly startedAt = new Date().toISOString();
  private readonly feed: EventFeed;
  private readonly gatekeeper: Gatekeeper;
  private readonly slot: PeerSlot;
  private readonly reconnector: Reconnector;
  private readonly outbox: Outbox;
  private readonly transfers: ResumableTransfers;
  private readonly history: HistoryStore;
  private readonly peerContext: SecureContext;
  private readonly handshakeTimeoutMs: number;
  private listener: Server | undefined;
  private control: ControlServer | undefined;
  private boundPort = 0;
  private stopping: Promise<void> | undefined;
  private readonly stopListeners: Array<() => void> = [];
  private partialSweep: NodeJS.Timeout | undefined;
  private readonly sweepPartials: () => Promise<void>;
  /** Incoming transfers kept until there is room for them, with the reason. */
  private readonly waitingForRoom = new Map<string, string>();

  constructor(config: DaemonConfig, history: HistoryStore, log: Logger) {
    this.config = config;
    this.history = history;
    this.log = log;
    this.peerContext = createPeerContext(config.identity);
    this.handshakeTimeoutMs = config.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    this.feed = new EventFeed(history, log);
    this.sweepPartials = partialSweeper(config.downloads, config.partialMaxAgeMs ?? PARTIAL_MAX_AGE_MS, log);
    const { name, knownPeers, downloads, maxFileSize, keepalive } = config;
    this.gatekeeper = new Gatekeeper({
      name, fingerprint: config.identity.fingerprint, knownPeers, mode: config.accept ?? DEFAULT_ACCEPT_MODE, feed: this.feed, log,
    });
    this.outbox = new Outbox({ name, ledger: history.messages, feed: this.feed, log, intended: () => this.reconnector.intended() });
    this.slot = new PeerSlot({
      name, downloads, maxFileSize, keepalive,
      instance: randomUUID(),
      listenPort: () => this.boundPort,
      peerContext: this.peerContext,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      gatekeeper: this.gatekeeper,
      feed: this.feed,
      ledger: history.messages,
      log,
      waitingForRoom: this.waitingForRoom,
      transferEvents: new WindowBudget(PEER_TRANSFER_EVENTS_PER_MINUTE, 60_000),
      completed: new CompletedTransfers(config.paths.receivedFile, log),
      onAdopted: (session, peer) => {
        this.reconnector.adopted(peer);
        this.outbox.attach(session, peer);
        this.transfers.adopted(peer);
      },
      onEnded: (peer, end, recorded) => {
        this.reconnector.ended(peer, end, recorded);
        // Each drop may leave partial files behind: their count stays bounded (MAX_KEPT_PARTIALS).
        void this.sweepPartials();
      },
    });
    const connectContext: ConnectContext = {
      slot: this.slot, gatekeeper: this.gatekeeper, log, peerContext: this.peerContext, handshakeTimeoutMs: this.handshakeTimeoutMs,
    };
    this.transfers = new ResumableTransfers({
      name,
      records: new TransferRecordFile(config.paths.transfersFile),
      session: () => (this.slot.session && !this.slot.session.isClosed ? this.slot.session : undefined),
      feed: this.feed,
      log,
      ...(config.transferRetryMs === undefined ? {} : { retryMs: { first: config.transferRetryMs, max: config.transferRetryMs } }),
    });
    const lastPeer = new LastPeerFile(config.paths.lastPeerFile);
    this.reconnector = new Reconnector({
      enabled: config.reconnect ?? true,
      name,
      dial: (target) => redial(connectContext, target, () => this.reconnector.wants(target.fingerprint)),
      current: () => (this.slot.session && !this.slot.session.isClosed ? this.slot.peer : undefined),
      load: () => lastPeer.load(),
      save: (peer) => lastPeer.save(peer),
      record: (event) => this.feed.recordSafely(event),
      log,
      ...(config.reconnectBaseMs === undefined ? {} : { backoff: { baseMs: config.reconnectBaseMs, maxMs: RECONNECT_MAX_DELAY_MS } }),
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** Binds the peer port, then the control socket; resolves once both serve. */
  async start(): Promise<void> {
    this.listener = net.createServer((socket) => this.slot.accept(socket));
    this.boundPort = await listen(this.listener, this.config.host, this.config.port);
    this.listener.on('error', (error) => this.log.error(`peer listener: ${error.message}`));
    this.control = await startControlServer(
      { path: this.config.paths.socket, place: this.config.paths.socketPlace },
      controlHandlers({
        name: this.config.name,
        fingerprint: this.config.identity.fingerprint,
        knownPeers: this.config.knownPeers,
        history: this.history,
        feed: this.feed,
        outbox: this.outbox,
        slot: this.slot,
        reconnector: this.reconnector,
        transfers: this.transfers,
        downloads: this.config.downloads,
        waitingForRoom: this.waitingForRoom,
        gatekeeper: this.gatekeeper,
        log: this.log,
        peerContext: this.peerContext,
        handshakeTimeoutMs: this.handshakeTimeoutMs,
        status: () => this.status(),
        addresses: () => this.addresses(),
        stop: (reason) => void this.stop(reason),
      }),
      (line) => this.log.warn(line),
      { idleTimeoutMs: this.config.controlIdleTimeoutMs },
    );
    this.log.info(
      `chatd ${this.config.version} started: name "${this.config.name}", fingerprint ${formatFingerprint(this.config.identity.fingerprint)}, ` +
        `peers on ${formatAddress(this.config.host, this.boundPort)} (TLS 1.3; dial ${this.addresses().join(', ')}; accept ${this.gatekeeper.mode}), control ${this.config.paths.socket}, downloads ${this.config.downloads.path}${this.config.downloads.raceFree ? '' : ' (checked by path: no /proc/self/fd)'}`,
    );
    // Once both serve: a redial that connects at once is already seen by `status` and `tail`.
    this.reconnector.start();
    void this.sweepPartials();
    this.partialSweep = setInterval(() => void this.sweepPartials(), Math.min(STALE_PARTIAL_SWEEP_MS, this.config.partialMaxAgeMs ?? PARTIAL_MAX_AGE_MS)).unref();
  }

  /** Called once the daemon has stopped (after `stop`), even when a step of stopping failed. */
  onStopped(listener: () => void): void {
    this.stopListeners.push(listener);
  }

  /** Closes the peer connections, the peer port, the control socket and the history, in that order. */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      try {
        this.log.info(`stopping: ${reason}`);
        this.reconnector.stop();
        clearInterval(this.partialSweep);
        this.slot.closeAll(DAEMON_STOPPING_REASON);
        await new Promise<void>((resolve) => (this.listener?.listening ? this.listener.close(() => resolve()) : resolve()));
        await this.control?.close();
        this.feed.close();
        this.log.info('stopped');
      } catch (error) {
        // Logged, not thrown: nobody waits on `stop` but the listeners, and they must still run.
        this.log.error(`could not stop cleanly: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        // Whatever failed above, chatd must not stay up half stopped: main's listener exits.
        for (const listener of this.stopListeners) listener();
      }
    })();
    return this.stopping;
  }

  /** Where a peer can dial this daemon (see dialAddresses). */
  addresses(): string[] {
    return dialAddresses(this.config.host, this.boundPort);
  }

  status(): StatusResult {
    const peer = this.slot.summary();
    return {
      pid: process.pid,
      name: this.config.name,
      fingerprint: this.config.identity.fingerprint,
      profile: this.config.paths.profile,
      host: this.config.host,
      port: this.boundPort,
      addresses: this.addresses(),
      accept: this.gatekeeper.mode,
      invite: this.gatekeeper.inviteSummary(),
      downloads: this.config.downloads.path,
      settings: {
        maxFileSize: this.config.maxFileSize,
        pingInterval: (this.config.keepalive ?? DEFAULT_KEEPALIVE).pingIntervalMs / 1000,
        reconnect: this.config.reconnect ?? true,
      },
      connection: peer ? 'connected' : 'disconnected',
      peer,
      reconnect: peer ? null : this.reconnector.summary(),
      queued: this.outbox.queuedCount(),
      home: this.config.paths.home,
      log: this.config.paths.logFile,
      startedAt: this.startedAt,
      version: this.config.version,
      supervisor: this.config.supervisor ?? null,
    };
  }
}
