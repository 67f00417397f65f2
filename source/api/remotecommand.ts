// The streaming protocol of pods/exec over WebSockets, as kube-apiserver and
// the kubelet speak it (k8s.io/apimachinery/pkg/util/httpstream/wsstream,
// k8s.io/client-go/tools/remotecommand): each binary message starts with a
// channel byte. v4.channel.k8s.io reports the exit in the error channel as
// a Status; v5.channel.k8s.io adds a close message (channel 255, then the
// channel being closed), which is how a client says its stdin ended.
export const channel = {stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255} as const;

export const execProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export function frame(ch: number, data: Buffer | string = Buffer.alloc(0)): Buffer {
	const body = typeof data === 'string' ? Buffer.from(data) : data;
	return Buffer.concat([Buffer.from([ch]), body]);
}

/** The error channel's last word: Success, or the exit code as kube-apiserver reports it. */
export function exitStatus(command: string[], exitCode: number): Record<string, unknown> {
	if (exitCode === 0) return {metadata: {}, status: 'Success'};
	return {
		metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
		message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
		details: {causes: [{reason: 'ExitCode', message: String(exitCode)}]},
	};
}

/** The exit code in an error-channel Status (0 for Success; undefined when it is an error, not an exit). */
export function exitCodeOf(status: {status?: string; reason?: string; details?: {causes?: {reason?: string; message?: string}[]}}): number | undefined {
	if (status.status === 'Success') return 0;
	if (status.reason !== 'NonZeroExitCode') return undefined;
	const cause = status.details?.causes?.find(c => c.reason === 'ExitCode');
	return cause ? Number(cause.message) : undefined;
}

export interface TerminalSize {
	Width: number;
	Height: number;
}
