#!/usr/bin/env node
// kubedeck's built-in multi-tool image, after Kubernetes' agnhost test image.
// Run as `image: kubedeck/agnhost` with args naming a subcommand:
//   netexec [--http-port=8080]          HTTP: / and /hostname answer the pod name, /healthz ok, /echo?msg=x
//   serve-files [--dir=/data] [--port=8080]   static files from a volume
//   logs-generator [--rate=10] [--total=0]     numbered log lines (total 0 = forever)
//   fail [--after=5] [--code=1]        exit with a code after some seconds
//   burn-cpu [--millicores=1000] [--duration=0] [--until-file=PATH]  busy-loop to load a CPU (until the time passes or the file exists)
//   pause                              do nothing until stopped
// No subcommand means netexec. It binds to the pod's IP (POD_IP).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [command = 'netexec', ...rest] = process.argv.slice(2);
const flags = Object.fromEntries(rest.filter(a => a.startsWith('--')).map(a => {
	const [k, v] = a.slice(2).split('=');
	return [k, v ?? 'true'];
}));
const host = process.env.POD_IP || '127.0.0.1';
const podName = process.env.POD_NAME || process.env.HOSTNAME || 'agnhost';
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

function listen(port, handler) {
	const server = http.createServer(handler);
	// An upgrade (a WebSocket handshake) is accepted and then echoes what it is sent, for tests of proxies.
	server.on('upgrade', (req, socket) => {
		socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
		socket.pipe(socket);
	});
	server.listen(port, host, () => console.log(`${command}: serving on http://${host}:${port}`));
	server.on('error', error => {
		console.error(`${command}: ${error.message}`);
		process.exit(1);
	});
}

switch (command) {
	case 'netexec':
	case 'serve-hostname': {
		const port = Number(flags['http-port'] ?? flags.port ?? 8080);
		listen(port, (req, res) => {
			const url = new URL(req.url, 'http://x');
			console.log(`${req.method} ${url.pathname}`);
			if (url.pathname === '/healthz' || url.pathname === '/readyz') return res.end('ok');
			// A kubedeck addition: POST /echo answers with its body as it arrives, chunk by chunk, so a
			// client can check that a proxy streams both ways (it waits for each echo before sending on).
			if (url.pathname === '/echo' && req.method === 'POST') {
				res.writeHead(200, {'Content-Type': 'application/octet-stream'});
				req.on('data', chunk => res.write(chunk));
				req.on('end', () => res.end());
				return;
			}
			if (url.pathname === '/echo') return res.end(url.searchParams.get('msg') ?? '');
			// As agnhost's netexec: the value of one request header.
			if (url.pathname === '/header') return res.end(String(req.headers[(url.searchParams.get('key') ?? '').toLowerCase()] ?? ''));
			res.end(podName);
		});
		break;
	}
	case 'serve-files': {
		const dir = flags.dir ?? '/data';
		const port = Number(flags.port ?? 8080);
		listen(port, (req, res) => {
			const file = path.join(dir, path.normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, ''));
			fs.readFile(fs.existsSync(file) && fs.statSync(file).isDirectory() ? path.join(file, 'index.html') : file, (error, data) => {
				res.statusCode = error ? 404 : 200;
				res.end(error ? 'not found\n' : data);
			});
		});
		break;
	}
	case 'logs-generator': {
		// Lines go out in batches every 10 ms, so high rates (10,000/s) are reached; stdout is a
		// file, so each batch is one write.
		const rate = Number(flags.rate ?? 10);
		const total = Number(flags.total ?? 0);
		const tickMs = rate >= 100 ? 10 : 1000 / rate;
		let n = 0, owed = 0;
		const tick = setInterval(() => {
			owed += (rate * tickMs) / 1000;
			let batch = '';
			for (; owed >= 1 && !(total && n >= total); owed--) batch += `${podName} line ${++n}\n`;
			if (batch) process.stdout.write(batch);
			if (total && n >= total) {
				clearInterval(tick);
				setTimeout(() => {}, 2 ** 31 - 1);
			}
		}, tickMs);
		break;
	}
	case 'fail': {
		const after = Number(flags.after ?? 5);
		console.log(`failing with code ${flags.code ?? 1} in ${after}s`);
		setTimeout(() => process.exit(Number(flags.code ?? 1)), after * 1000);
		break;
	}
	case 'burn-cpu': {
		const share = Math.min(1, Number(flags.millicores ?? 1000) / 1000);
		const duration = Number(flags.duration ?? 0) * 1000;
		const start = Date.now();
		const until = flags['until-file'];
		const burn = () => {
			const sliceStart = Date.now();
			while (Date.now() - sliceStart < 100 * share) { /* spin */ }
			if ((!duration || Date.now() - start < duration) && !(until && fs.existsSync(until))) setTimeout(burn, 100 * (1 - share));
			else setTimeout(() => {}, 2 ** 31 - 1);
		};
		burn();
		break;
	}
	case 'pause':
		setInterval(() => {}, 2 ** 31 - 1);
		break;
	default:
		console.error(`agnhost: unknown subcommand "${command}"`);
		process.exit(2);
}
