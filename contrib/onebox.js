/*
 * onebox.js: a small dependency-free client for the onebox-realtime WebSocket
 * protocol (/ws and /ws/imap-logs; see DESIGN.md "WebSocket protocol").
 * RFC 6455 itself is left to the platform: the browser's WebSocket, or the
 * `ws` package in Node (>= 18) passed in as the `WebSocket` option.
 *
 *   browser:  <script src="/onebox.js"></script>   -> window.Onebox
 *   Node:     const Onebox = require('./onebox.js')  (also import default)
 *
 *   const c = new Onebox({ url: 'ws://127.0.0.1:5001/ws', token: jwt });
 *   c.on('new_email', (data, env) => show(data.email));
 *   c.connect();
 *
 * What it does: authenticates (?token= in the URL, a first `auth` message,
 * an Authorization header in Node, or nothing so the browser sends the
 * onebox_token cookie); reconnects with capped exponential backoff and
 * jitter; remembers the highest durable event id it saw and asks the server
 * to replay what came after it (?lastEventId= or a `resume` message); drops
 * durable events it already delivered; re-sends topic and room subscriptions
 * after every reconnect. Close code 4401 (or an auth_error) stops it for
 * good, since retrying a refused token only hammers the server; 4429 backs
 * off at least `rateLimitDelay`.
 *
 * Options (defaults):
 *   url                  WebSocket URL, e.g. wss://host/ws       (required)
 *   token                JWT string, or a function returning one (none)
 *   auth                 'query' | 'message' | 'header' (Node only) |
 *                        'none' (browser cookie)                 ('query')
 *   resume               'query' | 'message' | false             ('query')
 *   lastEventId          id to resume after on the first connect (null)
 *   WebSocket            constructor                (globalThis.WebSocket)
 *   reconnect            retry after a lost connection            (true)
 *   maxReconnectAttempts give up after this many retries in a row (Infinity)
 *   minDelay, maxDelay   backoff base and cap in ms         (500, 30000)
 *   rateLimitDelay       least delay after close code 4429, ms    (30000)
 *   pingInterval         ms between app-level pings; two intervals in a
 *                        row with nothing heard mean a dead link (0 = off)
 *   maxMessageBytes      larger frames are dropped as invalid     (4 MiB)
 *   dedupWindow          how many recent event ids are remembered (1000)
 *   random               jitter source in [0,1)              (Math.random)
 *
 * Events, on(type, fn(data, envelope)) -> returns an off() function:
 *   any server type: connected, new_email, sync_status, pong, subscribed,
 *     unsubscribed, message, metrics, error, auth_success, auth_error,
 *     initial-logs, log, logs, logs-cleared ...
 *   '*'           every accepted envelope, fn(data, envelope)
 *   'state'       'connecting' | 'connected' | 'disconnected'
 *   'open'        the socket opened (before the server confirmed it)
 *   'close'       {code, reason, willReconnect, delay}
 *   'reconnecting' {attempt, delay}
 *   'duplicate'   an envelope whose id was already delivered (dropped)
 *   'invalid'     {reason} for a frame that is not a usable envelope
 *   'socket_error' the transport reported an error (a close follows)
 *   'listener_error' fn(err, {type}) when a listener threw; with no
 *                 listener_error listener the error is rethrown async
 *
 * Client -> server messages carry their fields both at the top level
 * ({"type":"auth","token":..}, as DESIGN.md writes them) and inside `data`
 * (the envelope shape of seed 001), so either reading of the protocol works.
 */
(function (root, factory) {
  'use strict';
  var Onebox = factory();
  if (typeof module === 'object' && module && module.exports) module.exports = Onebox;
  else root.Onebox = Onebox;
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  var CLOSE_AUTH = 4401;
  var CLOSE_RATE = 4429;
  /* Message types come from the network: look them up only in maps with no
   * prototype, so "constructor" or "__proto__" are just unknown types. */
  function map(o) { var m = Object.create(null); for (var k in o) m[k] = o[k]; return m; }
  var READY_TYPES = map({ connected: 1, auth_success: 1, 'initial-logs': 1 });
  var DEFAULTS = {
    auth: 'query', resume: 'query', lastEventId: null, reconnect: true,
    maxReconnectAttempts: Infinity, minDelay: 500, maxDelay: 30000,
    rateLimitDelay: 30000, pingInterval: 0, maxMessageBytes: 4 * 1024 * 1024,
    dedupWindow: 1000, random: Math.random
  };

  /* Equal jitter: half the exponential step is fixed, half random, so
   * clients that lost the same server spread out yet never retry at once. */
  function backoffDelay(attempt, minDelay, maxDelay, random) {
    var step = Math.min(maxDelay, minDelay * Math.pow(2, Math.min(attempt, 30)));
    return Math.round(step / 2 + (random || Math.random)() * step / 2);
  }

  function isEventId(id) {
    return typeof id === 'number' && Number.isSafeInteger(id) && id > 0;
  }

  function OneboxClient(options) {
    if (!(this instanceof OneboxClient)) return new OneboxClient(options);
    var o = {};
    var k;
    for (k in DEFAULTS) o[k] = DEFAULTS[k];
    for (k in options || {}) if (options[k] !== undefined) o[k] = options[k];
    if (typeof o.url !== 'string' || !/^wss?:\/\//i.test(o.url))
      throw new TypeError('onebox: options.url must be a ws:// or wss:// URL');
    o.WebSocket = o.WebSocket || (typeof WebSocket !== 'undefined' ? WebSocket : null);
    if (typeof o.WebSocket !== 'function')
      throw new TypeError('onebox: no WebSocket; pass options.WebSocket (e.g. require("ws"))');
    this.options = o;
    this.state = 'disconnected';
    this.lastEventId = isEventId(o.lastEventId) ? o.lastEventId : null;
    this.attempt = 0;
    this.topics = [];
    this.rooms = [];
    this._handlers = map({});
    this._seen = new Set();
    this._seenOrder = [];
    this._ws = null;
    this._timer = null;
    this._pinger = null;
    this._heard = false;
    this._missed = 0;
    this._stopped = true;
    this._authRefused = false;
    this._ready = false;
  }

  OneboxClient.prototype.on = function (type, fn) {
    (this._handlers[type] = this._handlers[type] || []).push(fn);
    var self = this;
    return function () { self.off(type, fn); };
  };

  OneboxClient.prototype.once = function (type, fn) {
    var off = this.on(type, function (a, b) { off(); fn(a, b); });
    return off;
  };

  OneboxClient.prototype.off = function (type, fn) {
    var list = this._handlers[type];
    if (!list) return;
    var i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  };

  /* A throwing listener must not wedge the socket loop or starve the other
   * listeners: its error goes to 'listener_error', or is rethrown later. */
  OneboxClient.prototype._emit = function (type, data, env) {
    var list = (this._handlers[type] || []).slice();
    for (var i = 0; i < list.length; i++) {
      try { list[i](data, env); } catch (e) { this._listenerError(type, e); }
    }
  };

  OneboxClient.prototype._listenerError = function (type, err) {
    var list = type === 'listener_error' ? [] : (this._handlers.listener_error || []).slice();
    if (!list.length) return void setTimeout(function () { throw err; }, 0);
    for (var i = 0; i < list.length; i++) {
      try { list[i](err, { type: type }); } catch (e) { setTimeout(function () { throw e; }, 0); }
    }
  };

  OneboxClient.prototype._setState = function (s) {
    if (this.state === s) return;
    this.state = s;
    this._emit('state', s);
  };

  OneboxClient.prototype._token = function () {
    var t = this.options.token;
    return typeof t === 'function' ? t() : t;
  };

  OneboxClient.prototype._connectUrl = function () {
    var o = this.options;
    var params = [];
    var token = this._token();
    if (o.auth === 'query' && token) params.push('token=' + encodeURIComponent(token));
    if (o.resume === 'query' && this.lastEventId !== null) params.push('lastEventId=' + this.lastEventId);
    if (!params.length) return o.url;
    return o.url + (o.url.indexOf('?') >= 0 ? '&' : '?') + params.join('&');
  };

  OneboxClient.prototype.connect = function () {
    if (this._ws || this._timer) return this;
    this._stopped = false;
    this._authRefused = false;
    this.attempt = 0;
    this._open();
    return this;
  };

  OneboxClient.prototype._open = function () {
    var o = this.options;
    var self = this;
    var ws;
    this._timer = null;
    this._ready = false;
    this._setState('connecting');
    try {
      var token = this._token();
      ws = o.auth === 'header' && token
        ? new o.WebSocket(this._connectUrl(), [], { headers: { Authorization: 'Bearer ' + token } })
        : new o.WebSocket(this._connectUrl());
    } catch (e) {
      this._emit('socket_error', e);
      this._scheduleReconnect(0, String(e && e.message || e));
      return;
    }
    this._ws = ws;
    ws.onopen = function () {
      if (self._ws !== ws) return;
      self._heard = true;
      self._missed = 0;
      self._emit('open');
      if (o.auth === 'message') self._raw('auth', { token: self._token() });
      else if (o.resume === 'message') self._sendResume();
      self._startPinger();
    };
    ws.onmessage = function (ev) { if (self._ws === ws) self._onFrame(ev.data); };
    ws.onerror = function (ev) { if (self._ws === ws) self._emit('socket_error', ev); };
    ws.onclose = function (ev) {
      if (self._ws !== ws) return;
      self._ws = null;
      self._stopPinger();
      self._scheduleReconnect(ev.code, ev.reason);
    };
  };

  OneboxClient.prototype._sendResume = function () {
    if (this.lastEventId !== null) this._raw('resume', { lastEventId: this.lastEventId });
  };

  OneboxClient.prototype._onFrame = function (raw) {
    this._heard = true;
    if (typeof raw !== 'string') raw = raw && typeof raw.toString === 'function' ? raw.toString() : '';
    if (raw.length > this.options.maxMessageBytes) return this._emit('invalid', { reason: 'frame too large' });
    var env;
    try { env = JSON.parse(raw); } catch (e) { return this._emit('invalid', { reason: 'not JSON' }); }
    if (!env || typeof env !== 'object' || Array.isArray(env) || typeof env.type !== 'string' || !env.type)
      return this._emit('invalid', { reason: 'no type' });
    if (isEventId(env.id)) {
      if (this._seen.has(env.id)) return this._emit('duplicate', env.data, env);
      this._remember(env.id);
    }
    if (env.type === 'auth_error') this._authRefused = true;
    if (READY_TYPES[env.type] && !this._ready) this._onReady();
    /* seed 003 names the body `payload`, seed 000 errors use `error`. */
    var data = env.data !== undefined ? env.data : env.payload !== undefined ? env.payload : env.error;
    this._emit(env.type, data, env);
    this._emit('*', data, env);
  };

  OneboxClient.prototype._remember = function (id) {
    this._seen.add(id);
    this._seenOrder.push(id);
    while (this._seenOrder.length > this.options.dedupWindow) this._seen.delete(this._seenOrder.shift());
    if (this.lastEventId === null || id > this.lastEventId) this.lastEventId = id;
  };

  OneboxClient.prototype._onReady = function () {
    this._ready = true;
    this.attempt = 0;
    if (this.options.auth === 'message' && this.options.resume === 'message') this._sendResume();
    if (this.topics.length) this._raw('subscribe', { topics: this.topics.slice() });
    for (var i = 0; i < this.rooms.length; i++) this._raw('subscribe', { room: this.rooms[i] });
    this._setState('connected');
  };

  OneboxClient.prototype._scheduleReconnect = function (code, reason) {
    var o = this.options;
    if (code === CLOSE_AUTH) this._authRefused = true;
    var retry = !this._stopped && o.reconnect && !this._authRefused && this.attempt < o.maxReconnectAttempts;
    var delay = 0;
    if (retry) {
      delay = backoffDelay(this.attempt, o.minDelay, o.maxDelay, o.random);
      if (code === CLOSE_RATE) delay = Math.max(delay, o.rateLimitDelay);
    }
    this._emit('close', { code: code, reason: reason || '', willReconnect: retry, delay: delay });
    if (!retry) {
      this._stopped = true;
      this._setState('disconnected');
      return;
    }
    this.attempt++;
    this._setState('connecting');
    this._emit('reconnecting', { attempt: this.attempt, delay: delay });
    var self = this;
    this._timer = setTimeout(function () { self._open(); }, delay);
  };

  OneboxClient.prototype._startPinger = function () {
    var self = this;
    var every = this.options.pingInterval;
    if (!(every > 0)) return;
    /* Counting ticks rather than reading the clock keeps a stalled event
     * loop from passing for a dead link. A dead link may never finish a close
     * handshake, so the socket is dropped at once, not on its close event. */
    this._pinger = setInterval(function () {
      var ws = self._ws;
      if (!ws) return;
      self._missed = self._heard ? 0 : self._missed + 1;
      self._heard = false;
      if (self._missed < 2) return void self.ping();
      self._ws = null;
      self._stopPinger();
      try { ws.close(4000, 'heartbeat timeout'); } catch (e) { /* already closing */ }
      self._scheduleReconnect(4000, 'heartbeat timeout');
    }, every);
  };

  OneboxClient.prototype._stopPinger = function () {
    if (this._pinger) clearInterval(this._pinger);
    this._pinger = null;
  };

  /* Stops for good; connect() starts again and keeps lastEventId. */
  OneboxClient.prototype.close = function (code, reason) {
    this._stopped = true;
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
    this._stopPinger();
    var ws = this._ws;
    this._ws = null;
    if (ws) {
      try { ws.close(code || 1000, reason || 'client closed'); } catch (e) { /* already closing */ }
      this._emit('close', { code: code || 1000, reason: reason || 'client closed', willReconnect: false, delay: 0 });
    }
    this._setState('disconnected');
    return this;
  };

  OneboxClient.prototype._raw = function (type, fields) {
    var ws = this._ws;
    if (!ws || ws.readyState !== 1) return false;
    var msg = { type: type, data: fields || {} };
    for (var k in fields || {}) if (k !== 'type' && k !== 'data') msg[k] = fields[k];
    ws.send(JSON.stringify(msg));
    return true;
  };

  /* Returns false when the socket is not open (the message is not queued). */
  OneboxClient.prototype.send = function (type, fields) {
    if (typeof type === 'object' && type) return this._raw(type.type, type.data || {});
    return this._raw(type, fields);
  };

  OneboxClient.prototype.ping = function () { return this._raw('ping', {}); };

  function list(x) { return (Array.isArray(x) ? x : [x]).filter(function (t) { return typeof t === 'string' && t; }); }

  OneboxClient.prototype.subscribe = function (topics) {
    var add = list(topics);
    for (var i = 0; i < add.length; i++) if (this.topics.indexOf(add[i]) < 0) this.topics.push(add[i]);
    return this._ready ? this._raw('subscribe', { topics: add }) : false;
  };

  OneboxClient.prototype.unsubscribe = function (topics) {
    var drop = list(topics);
    this.topics = this.topics.filter(function (t) { return drop.indexOf(t) < 0; });
    return this._ready ? this._raw('unsubscribe', { topics: drop }) : false;
  };

  OneboxClient.prototype.joinRoom = function (room) {
    if (this.rooms.indexOf(room) < 0) this.rooms.push(room);
    return this._ready ? this._raw('subscribe', { room: room }) : false;
  };

  OneboxClient.prototype.leaveRoom = function (room) {
    this.rooms = this.rooms.filter(function (r) { return r !== room; });
    return this._ready ? this._raw('unsubscribe', { room: room }) : false;
  };

  OneboxClient.prototype.sendToRoom = function (room, content) {
    return this._raw('message', { room: room, content: content });
  };

  OneboxClient.OneboxClient = OneboxClient;
  OneboxClient.default = OneboxClient;
  OneboxClient.backoffDelay = backoffDelay;
  OneboxClient.CLOSE_AUTH = CLOSE_AUTH;
  OneboxClient.CLOSE_RATE = CLOSE_RATE;
  return OneboxClient;
});
