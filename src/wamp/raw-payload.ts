// A PUBLISH whose payload is still the bytes it came in as (an MQTT client's), decoded into
// Arguments|list and ArgumentsKw|dict only once someone needs them: a WAMP subscriber, the event
// store (retained events, history), the router's own sessions. An event that reaches MQTT
// subscribers only goes out as the bytes it came with, and is never decoded (JSON.parse was the
// largest part of the router's CPU per MQTT message left, `npm run bench`). Who reads the bytes as
// they are says so (Transport.readsRawPayloads); every other receiver gets the decoded payload, the
// same as if it had been decoded on arrival.

/** The bytes, and how to decode them into the message's Arguments|list and ArgumentsKw|dict. */
export interface RawPayload {
  readonly bytes: Uint8Array;
  /** Appends Arguments|list (and ArgumentsKw|dict) to the PUBLISH, as if it had arrived with them. */
  decodeInto(publish: unknown[]): void;
  decoded: boolean;
}

/**
 * Where a PUBLISH (without its payload tail) or an EVENT made of it before decoding holds its raw
 * payload: a property of the message array itself, which no serializer writes (a WeakMap cost
 * more per message, in the bench, than the JSON.parse it saved).
 */
const RAW = Symbol('raw payload');
type Carrier = unknown[] & { [RAW]?: RawPayload };

/** Marks `message` (a PUBLISH without its payload tail, or an EVENT of it) as carrying `payload`. */
export function attachRawPayload(message: unknown[], payload: RawPayload): void {
  (message as Carrier)[RAW] = payload;
}

/** The raw payload of a PUBLISH or EVENT not yet decoded; undefined for every other message. */
export function rawPayloadOf(message: unknown[]): RawPayload | undefined {
  const payload = (message as Carrier)[RAW];
  return payload === undefined || payload.decoded ? undefined : payload;
}

/** The raw payload a message carries, decoded or not. */
export function carriedPayload(message: unknown[]): RawPayload | undefined {
  return (message as Carrier)[RAW];
}

/**
 * A PUBLISH carrying `payload` and nothing of its decoded tail: what the event store keeps of a
 * publication whose payload was decoded on its way (its bytes, not a second copy as values).
 */
export function undecodedCopy(publish: unknown[], payload: RawPayload): unknown[] {
  const copy = publish.slice(0, 4);
  attachRawPayload(copy, payload);
  return copy;
}

/** The MQTT bytes an EVENT carries, decoded or not (an MQTT subscriber sends them as they are). */
export function rawBytesOf(message: unknown[]): Uint8Array | undefined {
  return (message as Carrier)[RAW]?.bytes;
}

/** Decodes the PUBLISH's raw payload into it, once; a message without one is left as it is. */
export function decodePayload(publish: unknown[]): void {
  const payload = (publish as Carrier)[RAW];
  if (payload === undefined || payload.decoded) return;
  payload.decoded = true;
  payload.decodeInto(publish);
}

/**
 * The Arguments|list and ArgumentsKw|dict a raw PUBLISH decodes to, made afresh each time, the
 * message left undecoded: the event store keeps a retained MQTT message as its bytes (off the V8
 * heap, where a large text payload as a string made the collector's pauses longer) and decodes it
 * for each WAMP session that reads it.
 */
export function decodedTail(message: unknown[]): unknown[] {
  const tail: unknown[] = [];
  (message as Carrier)[RAW]?.decodeInto(tail);
  return tail;
}
