/**
 * n8n's built-in Data Table, driven through n8n's public API (`/api/v1/data-tables`, header
 * `X-N8N-API-KEY`; `N8nServer.api` makes the key on first use). The demo and the end-to-end tests
 * keep their leads here, the way a user would without an outside CRM. Needs the server running.
 * Workflows reach a table by its id (the Data Table node's "By ID"); names are substring matches.
 */
import type { N8nServer } from './n8n-server';

export type ColumnType = 'string' | 'number' | 'boolean' | 'date';

export interface ColumnSpec {
	/** `^[a-zA-Z][a-zA-Z0-9_]*$`, at most 63 characters. */
	name: string;
	type: ColumnType;
}

/** A row as the API returns it: the user columns plus `id`, `createdAt`, `updatedAt`. */
export type Row = Record<string, unknown> & { id: number; createdAt: string; updatedAt: string };

export interface DataTable {
	id: string;
	name: string;
	projectId: string;
	columns: ColumnSpec[];
	/** Inserts rows (in order) and returns them as stored. */
	insert(rows: Array<Record<string, unknown>>): Promise<Row[]>;
	/** Every row, oldest first. */
	rows(): Promise<Row[]>;
	/** Deletes every row; the table and its columns stay. */
	clear(): Promise<void>;
	/** Deletes the table. */
	remove(): Promise<void>;
}

/** Creates a table in the API key owner's personal project, where imported workflows live too. */
export async function createDataTable(
	n8n: N8nServer,
	name: string,
	columns: ColumnSpec[],
): Promise<DataTable> {
	const created = await n8n.api<{ id: string; name: string; projectId: string }>(
		'POST',
		'/data-tables',
		{ name, columns },
	);
	return openDataTable(n8n, { ...created, columns });
}

function openDataTable(
	n8n: N8nServer,
	table: { id: string; name: string; projectId: string; columns: ColumnSpec[] },
): DataTable {
	const base = `/data-tables/${table.id}`;
	return {
		...table,
		insert: (rows) => n8n.api<Row[]>('POST', `${base}/rows`, { data: rows, returnType: 'all' }),
		async rows() {
			const all: Row[] = [];
			let cursor: string | null = null;
			do {
				const query = new URLSearchParams({
					limit: '250',
					sortBy: 'id:asc',
					...(cursor ? { cursor } : {}),
				});
				const page: { data: Row[]; nextCursor: string | null } = await n8n.api(
					'GET',
					`${base}/rows?${query.toString()}`,
				);
				all.push(...page.data);
				cursor = page.nextCursor;
			} while (cursor);
			return all;
		},
		clear: async () => void (await n8n.api('DELETE', `${base}/rows/clear`)),
		remove: async () => void (await n8n.api('DELETE', base)),
	};
}

/**
 * The rows as a plain text table, one line per row, each cell cut to `maxCell` characters
 * (`format` may shorten a column's values first, e.g. a transcript to its line count).
 */
export function formatRows(
	rows: Array<Record<string, unknown>>,
	columns: string[],
	options: { maxCell?: number; format?: Record<string, (value: unknown) => string> } = {},
): string {
	const maxCell = options.maxCell ?? 40;
	const text = (column: string, value: unknown): string => {
		const shown = options.format?.[column]
			? options.format[column](value)
			: value === null || value === undefined || value === ''
				? '·'
				: typeof value === 'string'
					? value
					: JSON.stringify(value);
		const flat = shown.replace(/\s+/g, ' ');
		return flat.length > maxCell ? `${flat.slice(0, maxCell - 1)}…` : flat;
	};
	const cells = rows.map((row) => columns.map((column) => text(column, row[column])));
	const widths = columns.map((column, i) =>
		Math.max(column.length, ...cells.map((line) => line[i].length)),
	);
	const line = (values: string[]) =>
		values
			.map((value, i) => value.padEnd(widths[i]))
			.join('  ')
			.trimEnd();
	return [line(columns), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join(
		'\n',
	);
}
