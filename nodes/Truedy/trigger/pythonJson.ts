/**
 * Python's `json.dumps(json.loads(body), sort_keys=True)` for a JSON text, in TypeScript: what
 * Truedy's early backend signed while it sent the unsorted body. Pure: no n8n, no I/O.
 *
 * The text is read with its own small parser, not `JSON.parse`, because Python keeps what
 * JavaScript numbers lose: `1.0` stays a float (printed `1.0`), `12345678901234567890` stays an
 * exact int. Output follows Python's defaults:
 * - separators `', '` and `': '`;
 * - `ensure_ascii=True`: `"`, `\` and `\b \f \n \r \t` get their short escapes, every other UTF-16
 *   code unit outside `' '..'~'` becomes `\uXXXX` (lower-case hex; astral characters as surrogate pairs);
 * - keys sorted by code point; a repeated key keeps its last value (as `json.loads` does);
 * - ints as written (`-0` → `0`), floats as `float.__repr__` (`1e-05`, `1e+16`, `1.0`, `inf` → `Infinity`).
 * Returns undefined for text that is not JSON, so the caller treats it as not signed this way.
 */

const WHITESPACE = ' \t\n\r';
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const SHORT_ESCAPES: Record<string, string> = {
	'"': '\\"',
	'\\': '\\\\',
	'\b': '\\b',
	'\f': '\\f',
	'\n': '\\n',
	'\r': '\\r',
	'\t': '\\t',
};
/** Nesting deeper than this is refused (Python's own limit is about 1,000). */
const MAX_DEPTH = 512;

class NotJson extends Error {}

export function pythonSortedJson(text: string): string | undefined {
	try {
		const parser = new Parser(text);
		const out = parser.value(0);
		parser.skipWhitespace();
		if (!parser.atEnd()) return undefined;
		return out;
	} catch {
		// NotJson, or JSON.parse's SyntaxError for a bad string literal.
		return undefined;
	}
}

/** Reads JSON and writes the Python text at once (values are never built as JS objects). */
class Parser {
	private i = 0;

	constructor(private readonly text: string) {}

	atEnd(): boolean {
		return this.i >= this.text.length;
	}

	skipWhitespace(): void {
		while (this.i < this.text.length && WHITESPACE.includes(this.text[this.i])) this.i++;
	}

	value(depth: number): string {
		if (depth > MAX_DEPTH) throw new NotJson();
		this.skipWhitespace();
		const c = this.text[this.i];
		if (c === '{') return this.object(depth);
		if (c === '[') return this.array(depth);
		if (c === '"') return encodeAscii(this.string());
		for (const word of ['true', 'false', 'null']) {
			if (this.text.startsWith(word, this.i)) {
				this.i += word.length;
				return word;
			}
		}
		return this.number();
	}

	private object(depth: number): string {
		this.i++; // {
		const members = new Map<string, string>();
		this.skipWhitespace();
		if (this.text[this.i] === '}') {
			this.i++;
			return '{}';
		}
		for (;;) {
			this.skipWhitespace();
			if (this.text[this.i] !== '"') throw new NotJson();
			const key = this.string();
			this.skipWhitespace();
			if (this.text[this.i++] !== ':') throw new NotJson();
			const value = this.value(depth + 1);
			members.delete(key);
			members.set(key, value);
			this.skipWhitespace();
			const next = this.text[this.i++];
			if (next === '}') break;
			if (next !== ',') throw new NotJson();
		}
		const keys = [...members.keys()].sort(compareCodePoints);
		return `{${keys.map((key) => `${encodeAscii(key)}: ${members.get(key)}`).join(', ')}}`;
	}

	private array(depth: number): string {
		this.i++; // [
		const items: string[] = [];
		this.skipWhitespace();
		if (this.text[this.i] === ']') {
			this.i++;
			return '[]';
		}
		for (;;) {
			items.push(this.value(depth + 1));
			this.skipWhitespace();
			const next = this.text[this.i++];
			if (next === ']') break;
			if (next !== ',') throw new NotJson();
		}
		return `[${items.join(', ')}]`;
	}

	/** A string literal, decoded by JSON.parse (which rejects raw control characters, as Python does). */
	private string(): string {
		const start = this.i;
		this.i++; // opening quote
		while (this.i < this.text.length && this.text[this.i] !== '"') {
			this.i += this.text[this.i] === '\\' ? 2 : 1;
		}
		if (this.i >= this.text.length) throw new NotJson();
		this.i++; // closing quote
		return JSON.parse(this.text.slice(start, this.i)) as string;
	}

	private number(): string {
		NUMBER.lastIndex = this.i;
		const match = NUMBER.exec(this.text);
		if (!match) throw new NotJson();
		this.i += match[0].length;
		if (match[1] === undefined && match[2] === undefined) {
			// A Python int: printed exactly as written, except that -0 is 0.
			return /^-0$/.test(match[0]) ? '0' : match[0];
		}
		return pythonFloatRepr(Number(match[0]));
	}
}

/** Python compares str by code point; `<` on JS strings compares UTF-16 code units. */
export function compareCodePoints(a: string, b: string): number {
	const x = Array.from(a);
	const y = Array.from(b);
	const length = Math.min(x.length, y.length);
	for (let k = 0; k < length; k++) {
		const d = (x[k].codePointAt(0) as number) - (y[k].codePointAt(0) as number);
		if (d !== 0) return d;
	}
	return x.length - y.length;
}

/** `py_encode_basestring_ascii`. */
function encodeAscii(s: string): string {
	let out = '"';
	for (let k = 0; k < s.length; k++) {
		const c = s[k];
		const unit = s.charCodeAt(k);
		const short = SHORT_ESCAPES[c];
		if (short !== undefined) out += short;
		else if (unit < 0x20 || unit > 0x7e) out += `\\u${unit.toString(16).padStart(4, '0')}`;
		else out += c;
	}
	return `${out}"`;
}

/** `float.__repr__`: the shortest round-trip digits; exponent form below 1e-4 and from 1e16. */
export function pythonFloatRepr(n: number): string {
	if (Number.isNaN(n)) return 'NaN';
	if (n === Infinity) return 'Infinity';
	if (n === -Infinity) return '-Infinity';
	const sign = n < 0 || Object.is(n, -0) ? '-' : '';
	const [mantissa, expText] = Math.abs(n).toExponential().split('e');
	const digits = mantissa.replace('.', '');
	const exp = Number(expText);
	if (exp < -4 || exp >= 16) {
		const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
		return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
	}
	const point = exp + 1;
	if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
	if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
	return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
