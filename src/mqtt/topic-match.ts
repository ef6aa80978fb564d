// MQTT's own rule for which topics a subscription filter matches [MQTT-4.7], level by level: for
// what cannot be decided by a WAMP pattern (a bridge's own echoes, `$SYS/`, filters such as `+/b/#`).

/** Does MQTT topic `topic` fall under subscription filter `filter`? */
export function topicMatches(filter: string, topic: string): boolean {
  // Filters starting with a wildcard do not match topics starting with '$' (MQTT 4.7.2).
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
