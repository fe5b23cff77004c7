// Preloaded into the Portkey gateway (node --require): its start-up script listens on every interface and has no
// option to choose one, but benchmark servers must bind to loopback only. A listen() given a port and no host
// gets 127.0.0.1.
const net = require('node:net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') {
    args.splice(1, args[1] === undefined && args.length > 1 ? 1 : 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
