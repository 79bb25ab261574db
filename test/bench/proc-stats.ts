/**
 * Linux /proc readers for the benchmark: finds the n8n server process (and its task runner) and
 * samples their memory (VmRSS, VmHWM) and CPU time (utime + stime).
 */
import fs from 'fs';
import os from 'os';

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on every Linux we run on). */
const CLOCK_TICKS = 100;

export interface ProcInfo {
	pid: number;
	ppid: number;
	cmdline: string[];
}

function readText(file: string): string | undefined {
	try {
		return fs.readFileSync(file, 'utf8');
	} catch {
		return undefined;
	}
}

export function procInfo(pid: number): ProcInfo | undefined {
	const stat = readText(`/proc/${pid}/stat`);
	const cmdline = readText(`/proc/${pid}/cmdline`);
	if (!stat || cmdline === undefined) return undefined;
	// The command name (field 2) is in parentheses and may contain spaces.
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	return { pid, ppid: Number(fields[1]), cmdline: cmdline.split('\0').filter(Boolean) };
}

function allPids(): number[] {
	return fs
		.readdirSync('/proc')
		.filter((name) => /^\d+$/.test(name))
		.map(Number);
}

export function childrenOf(pid: number): ProcInfo[] {
	return allPids()
		.map(procInfo)
		.filter((info): info is ProcInfo => info !== undefined && info.ppid === pid);
}

/**
 * The `n8n start` process serving `userFolder` (not the supervisor that started it): a process
 * whose command line is `<node24> <n8n bin> start` and whose environment names the user folder.
 */
export function findN8nServerPid(n8nBin: string, userFolder: string): number | undefined {
	for (const pid of allPids()) {
		const info = procInfo(pid);
		if (!info || info.cmdline[1] !== n8nBin || info.cmdline[2] !== 'start') continue;
		const environ = readText(`/proc/${pid}/environ`);
		if (environ?.split('\0').includes(`N8N_USER_FOLDER=${userFolder}`)) return pid;
	}
	return undefined;
}

export interface MemoryStatus {
	rssKb: number;
	hwmKb: number;
}

export function memoryOf(pid: number): MemoryStatus | undefined {
	const status = readText(`/proc/${pid}/status`);
	if (!status) return undefined;
	const field = (name: string): number =>
		Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
	return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

/** utime + stime of the process in milliseconds. */
export function cpuMsOf(pid: number): number {
	const stat = readText(`/proc/${pid}/stat`);
	if (!stat) return 0;
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	// After the command: state(0) ppid(1) ... utime(11) stime(12)
	return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** The n8n server and every process below it (the JS task runner). */
export function processTree(rootPid: number): number[] {
	const byParent = new Map<number, number[]>();
	for (const pid of allPids()) {
		const info = procInfo(pid);
		if (!info) continue;
		const list = byParent.get(info.ppid) ?? [];
		list.push(pid);
		byParent.set(info.ppid, list);
	}
	const tree: number[] = [];
	const queue = [rootPid];
	while (queue.length > 0) {
		const pid = queue.shift()!;
		tree.push(pid);
		queue.push(...(byParent.get(pid) ?? []));
	}
	return tree;
}

export interface MemoryPeaks {
	/** Highest VmRSS sampled for the server process, kB. */
	mainPeakRssKb: number;
	/** Highest VmRSS sampled for its children (task runner), kB, per child summed at each sample. */
	childrenPeakRssKb: number;
	/** Highest sum of both at one sample, kB. */
	treePeakRssKb: number;
	/** VmHWM of the server process when sampling stopped (includes its start-up peak), kB. */
	mainHwmKb: number;
	/** VmRSS of the server process when sampling began, kB. */
	mainStartRssKb: number;
	samples: number;
	/** [ms since start, main VmRSS kB] every ~500 ms, to see when memory grows. */
	timeline: Array<[number, number]>;
}

/** Samples VmRSS of the process tree every `intervalMs` until stop() is called. */
export function sampleMemory(rootPid: number, intervalMs = 20): { stop(): MemoryPeaks } {
	const peaks: MemoryPeaks = {
		mainPeakRssKb: 0,
		childrenPeakRssKb: 0,
		treePeakRssKb: 0,
		mainHwmKb: 0,
		mainStartRssKb: memoryOf(rootPid)?.rssKb ?? 0,
		samples: 0,
		timeline: [],
	};
	const started = Date.now();
	let children = childrenOf(rootPid).map((info) => info.pid);
	let ticks = 0;
	const sample = (): void => {
		// The runner can be restarted by n8n; look for it again now and then.
		if (++ticks % 25 === 0) children = childrenOf(rootPid).map((info) => info.pid);
		const main = memoryOf(rootPid)?.rssKb ?? 0;
		const kids = children.reduce((sum, pid) => sum + (memoryOf(pid)?.rssKb ?? 0), 0);
		peaks.mainPeakRssKb = Math.max(peaks.mainPeakRssKb, main);
		peaks.childrenPeakRssKb = Math.max(peaks.childrenPeakRssKb, kids);
		peaks.treePeakRssKb = Math.max(peaks.treePeakRssKb, main + kids);
		peaks.samples++;
		const elapsed = Date.now() - started;
		const last = peaks.timeline[peaks.timeline.length - 1];
		if (!last || elapsed - last[0] >= 500) peaks.timeline.push([elapsed, main]);
	};
	sample();
	const timer = setInterval(sample, intervalMs);
	return {
		stop(): MemoryPeaks {
			clearInterval(timer);
			sample();
			peaks.mainHwmKb = memoryOf(rootPid)?.hwmKb ?? 0;
			return peaks;
		},
	};
}

export interface MachineInfo {
	cores: number;
	cpuModel: string;
	memoryGiB: number;
	kernel: string;
}

export function machineInfo(): MachineInfo {
	return {
		cores: os.cpus().length,
		cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
		memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
		kernel: `${os.type()} ${os.release()}`,
	};
}

/** Other n8n processes on the machine (`n8n start` servers and CLI runs of other test runs). */
export function otherN8nProcesses(ownPid?: number): number {
	return allPids()
		.map(procInfo)
		.filter(
			(info): info is ProcInfo =>
				info !== undefined &&
				info.pid !== ownPid &&
				/\/bin\/n8n$/.test(info.cmdline[1] ?? '') &&
				['start', 'execute', 'worker', 'webhook'].includes(info.cmdline[2] ?? ''),
		).length;
}

/** 1-minute load average. */
export function loadAverage(): number {
	return os.loadavg()[0];
}
