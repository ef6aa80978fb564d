// Values by topic URI in a tree of its components (`a.b.c` → a → b → c), so that the values under
// a subscription's pattern are found by walking only the branches the pattern can match, never by
// testing every topic: exact is one path, wildcard (`a..c`) follows every child only where the
// pattern has an empty component, prefix (`a.b`, a string prefix) takes the subtrees of the
// children of `a` whose name starts with `b`. The broker keeps retained events in one.

import type { MatchPolicy } from '../wamp/uri.js';

interface TopicNode<T> {
  children: Map<string, TopicNode<T>> | undefined;
  value: T | undefined;
}

export class TopicTree<T> {
  private readonly root: TopicNode<T> = { children: undefined, value: undefined };

  set(topic: string, value: T): void {
    let node = this.root;
    for (const part of topic.split('.')) {
      node.children ??= new Map();
      let next = node.children.get(part);
      if (!next) {
        next = { children: undefined, value: undefined };
        node.children.set(part, next);
      }
      node = next;
    }
    node.value = value;
  }

  delete(topic: string): void {
    const parts = topic.split('.');
    const path: TopicNode<T>[] = [this.root];
    for (const part of parts) {
      const next = path[path.length - 1]!.children?.get(part);
      if (!next) return;
      path.push(next);
    }
    path[path.length - 1]!.value = undefined;
    // Prune the branch the topic leaves empty, so topics that come and go leave no dead nodes.
    for (let i = parts.length; i > 0; i--) {
      const node = path[i]!;
      if (node.value !== undefined || (node.children !== undefined && node.children.size > 0)) break;
      path[i - 1]!.children!.delete(parts[i - 1]!);
    }
  }

  /** Every value whose topic `pattern` matches under `match`, appended to `out`. */
  collect(pattern: string, match: MatchPolicy, out: T[]): void {
    const parts = pattern.split('.');
    if (match === 'wildcard') return this.wildcard(this.root, parts, 0, out);
    const last = match === 'prefix' ? parts.length - 1 : parts.length;
    let node: TopicNode<T> | undefined = this.root;
    for (let i = 0; i < last && node; i++) node = node.children?.get(parts[i]!);
    if (!node) return;
    if (match === 'exact') {
      if (node.value !== undefined) out.push(node.value);
      return;
    }
    const start = parts[last]!;
    if (!node.children) return;
    for (const [name, child] of node.children) if (name.startsWith(start)) this.all(child, out);
  }

  private wildcard(node: TopicNode<T>, parts: string[], depth: number, out: T[]): void {
    if (depth === parts.length) {
      if (node.value !== undefined) out.push(node.value);
      return;
    }
    if (!node.children) return;
    const part = parts[depth]!;
    if (part !== '') {
      const next = node.children.get(part);
      if (next) this.wildcard(next, parts, depth + 1, out);
      return;
    }
    for (const child of node.children.values()) this.wildcard(child, parts, depth + 1, out);
  }

  private all(node: TopicNode<T>, out: T[]): void {
    if (node.value !== undefined) out.push(node.value);
    if (node.children) for (const child of node.children.values()) this.all(child, out);
  }
}
