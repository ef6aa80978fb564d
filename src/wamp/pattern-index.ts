// URI → value index for the three match policies, shared by the broker (every match),
// the dealer (the single best match) and the authorizer (the best permission).
//
// Lookups never scan all entries: exact is one Map hit; prefix tries only the prefix lengths in
// use (longest first); wildcard walks a trie of components, concrete child before wildcard child,
// which yields matches in the spec's precedence order (longest concrete run first).

import type { MatchPolicy } from './uri.js';

interface WildcardNode<T> {
  concrete: Map<string, WildcardNode<T>>;
  wild: WildcardNode<T> | undefined;
  value: T | undefined;
}

function newNode<T>(): WildcardNode<T> {
  return { concrete: new Map(), wild: undefined, value: undefined };
}

export class PatternIndex<T> {
  private readonly exact = new Map<string, T>();
  private readonly prefix = new Map<string, T>();
  /** Distinct prefix lengths in use, longest first, and how many prefixes have each. */
  private prefixLengths: number[] = [];
  private readonly prefixLengthUse = new Map<number, number>();
  private readonly wildcardRoot: WildcardNode<T> = newNode();
  private wildcardCount = 0;

  get size(): number {
    return this.exact.size + this.prefix.size + this.wildcardCount;
  }

  get(uri: string, match: MatchPolicy): T | undefined {
    if (match === 'exact') return this.exact.get(uri);
    if (match === 'prefix') return this.prefix.get(uri);
    return this.findWildcardNode(uri, false)?.value;
  }

  set(uri: string, match: MatchPolicy, value: T): void {
    if (match === 'exact') {
      this.exact.set(uri, value);
    } else if (match === 'prefix') {
      if (!this.prefix.has(uri)) this.addPrefixLength(uri.length);
      this.prefix.set(uri, value);
    } else {
      const node = this.findWildcardNode(uri, true)!;
      if (node.value === undefined) this.wildcardCount++;
      node.value = value;
    }
  }

  delete(uri: string, match: MatchPolicy): void {
    if (match === 'exact') {
      this.exact.delete(uri);
    } else if (match === 'prefix') {
      if (this.prefix.delete(uri)) this.removePrefixLength(uri.length);
    } else {
      this.deleteWildcard(uri);
    }
  }

  /** The RPC rule: exact, else the longest prefix, else the best wildcard. */
  best(uri: string): T | undefined {
    const exact = this.exact.get(uri);
    if (exact !== undefined) return exact;
    for (const len of this.prefixLengths) {
      if (len > uri.length) continue;
      const hit = this.prefix.get(len === uri.length ? uri : uri.slice(0, len));
      if (hit !== undefined) return hit;
    }
    if (this.wildcardCount === 0) return undefined;
    return this.walk(this.wildcardRoot, uri.split('.'), 0, undefined);
  }

  /** The PubSub rule: every entry that matches, appended to `out`. */
  matchAll(uri: string, out: T[]): void {
    const exact = this.exact.get(uri);
    if (exact !== undefined) out.push(exact);
    for (const len of this.prefixLengths) {
      if (len > uri.length) continue;
      const hit = this.prefix.get(len === uri.length ? uri : uri.slice(0, len));
      if (hit !== undefined) out.push(hit);
    }
    if (this.wildcardCount > 0) this.walk(this.wildcardRoot, uri.split('.'), 0, out);
  }

  /** Every value, for listings (meta API) and teardown. */
  *values(match?: MatchPolicy): IterableIterator<T> {
    if (!match || match === 'exact') yield* this.exact.values();
    if (!match || match === 'prefix') yield* this.prefix.values();
    if (!match || match === 'wildcard') yield* this.wildcardValues(this.wildcardRoot);
  }

  private *wildcardValues(node: WildcardNode<T>): IterableIterator<T> {
    if (node.value !== undefined) yield node.value;
    for (const child of node.concrete.values()) yield* this.wildcardValues(child);
    if (node.wild) yield* this.wildcardValues(node.wild);
  }

  /** Depth-first, concrete before wildcard; with `out` collects all, else returns the first. */
  private walk(node: WildcardNode<T>, parts: string[], depth: number, out: T[] | undefined): T | undefined {
    if (depth === parts.length) {
      if (node.value !== undefined && out) out.push(node.value);
      return node.value;
    }
    const next = node.concrete.get(parts[depth]!);
    if (next) {
      const hit = this.walk(next, parts, depth + 1, out);
      if (hit !== undefined && !out) return hit;
    }
    if (node.wild) {
      const hit = this.walk(node.wild, parts, depth + 1, out);
      if (hit !== undefined && !out) return hit;
    }
    return undefined;
  }

  private findWildcardNode(uri: string, create: boolean): WildcardNode<T> | undefined {
    let node = this.wildcardRoot;
    for (const part of uri.split('.')) {
      let next = part === '' ? node.wild : node.concrete.get(part);
      if (!next) {
        if (!create) return undefined;
        next = newNode<T>();
        if (part === '') node.wild = next;
        else node.concrete.set(part, next);
      }
      node = next;
    }
    return node;
  }

  private deleteWildcard(uri: string): void {
    const parts = uri.split('.');
    const path: WildcardNode<T>[] = [this.wildcardRoot];
    for (const part of parts) {
      const node = path[path.length - 1]!;
      const next = part === '' ? node.wild : node.concrete.get(part);
      if (!next) return;
      path.push(next);
    }
    const leaf = path[path.length - 1]!;
    if (leaf.value === undefined) return;
    leaf.value = undefined;
    this.wildcardCount--;
    // Prune empty branches so a long-running router does not keep dead nodes.
    for (let i = parts.length; i > 0; i--) {
      const node = path[i]!;
      if (node.value !== undefined || node.concrete.size > 0 || node.wild) break;
      const parent = path[i - 1]!;
      if (parts[i - 1] === '') parent.wild = undefined;
      else parent.concrete.delete(parts[i - 1]!);
    }
  }

  private addPrefixLength(len: number): void {
    const used = this.prefixLengthUse.get(len) ?? 0;
    this.prefixLengthUse.set(len, used + 1);
    if (used === 0) this.prefixLengths = [...this.prefixLengthUse.keys()].sort((a, b) => b - a);
  }

  private removePrefixLength(len: number): void {
    const used = this.prefixLengthUse.get(len) ?? 0;
    if (used <= 1) {
      this.prefixLengthUse.delete(len);
      this.prefixLengths = [...this.prefixLengthUse.keys()].sort((a, b) => b - a);
    } else {
      this.prefixLengthUse.set(len, used - 1);
    }
  }
}
