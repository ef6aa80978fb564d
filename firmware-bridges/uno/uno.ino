// Junction serial line protocol v1 (../PROTOCOL.md) for an Arduino Uno / Nano (ATmega328P).
//
// Publishes analogRead(A0) as topic "a0" once a second, offers the procedures led.set and led.get
// (the LED on pin 13), sends "hb" when it has been quiet for a second, answers "who" with "hello".
// Lines it receives: `<json>*<crc>` checked with CRC-8/SMBUS, or `<json>` alone (a person typing).
//
// No String, no heap: one line buffer and a scanner that reads the few top-level keys it needs.
// Built by ../build.sh (avr-g++ with the Debian Arduino core); the .ino is compiled as plain C++,
// so every function is defined before it is used.
//
// Device id: -DDEVICE_ID=\"uno-2\" (1-24 characters of A-Z a-z 0-9 _ -), default "uno-1".

#include <Arduino.h>

#ifndef DEVICE_ID
#define DEVICE_ID "uno-1"
#endif
#define FW_VERSION "1.0.0"
#define BAUD 115200
#define PUBLISH_MS 1000UL
#define HEARTBEAT_MS 1000UL
#define LED_PIN 13

// Checked at compile time: the id's characters, and its length so that hello stays <= 120 bytes.
constexpr bool idChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}
constexpr bool validId(const char *s, unsigned n) { return *s == 0 ? n > 0 : (idChar(*s) && validId(s + 1, n + 1)); }
static_assert(validId(DEVICE_ID, 0), "DEVICE_ID must be 1-24 characters of A-Z a-z 0-9 _ -");
static_assert(sizeof(DEVICE_ID) - 1 <= 24, "DEVICE_ID must be at most 24 characters (hello must fit in 120 bytes)");

// ---- output: every message is written through here so its CRC is computed on the way out ----

static uint8_t txCrc;
static unsigned long lastTx;

static uint8_t crcStep(uint8_t crc, uint8_t b) {
  crc ^= b;
  for (uint8_t k = 0; k < 8; k++) crc = (crc & 0x80) ? (uint8_t)((crc << 1) ^ 0x07) : (uint8_t)(crc << 1);
  return crc;
}

static void putByte(char c) {
  txCrc = crcStep(txCrc, (uint8_t)c);
  Serial.write((uint8_t)c);
}

// Strings in flash (PSTR), so they cost no RAM.
static void putP(PGM_P s) {
  char c;
  while ((c = (char)pgm_read_byte(s++)) != 0) putByte(c);
}

static void putNum(long n) {
  char digits[11];
  uint8_t k = 0;
  unsigned long u = n < 0 ? (unsigned long)(-n) : (unsigned long)n;
  if (n < 0) putByte('-');
  do { digits[k++] = (char)('0' + u % 10); u /= 10; } while (u);
  while (k) putByte(digits[--k]);
}

static void begin() { txCrc = 0; }

static void end() {
  static const char hex[] PROGMEM = "0123456789abcdef";
  uint8_t crc = txCrc;
  Serial.write('*');
  Serial.write(pgm_read_byte(hex + (crc >> 4)));
  Serial.write(pgm_read_byte(hex + (crc & 15)));
  Serial.write('\n');
  lastTx = millis();
}

static void sendHello() {
  begin();
  putP(PSTR("{\"t\":\"hello\",\"id\":\"" DEVICE_ID "\",\"fw\":\"" FW_VERSION
            "\",\"v\":1,\"pub\":[\"a0\"],\"proc\":[\"led.set\",\"led.get\"],\"hb\":"));
  putNum(HEARTBEAT_MS);
  putByte('}');
  end();
}

static void sendResult(long id, long value) {
  begin();
  putP(PSTR("{\"t\":\"res\",\"i\":"));
  putNum(id);
  putP(PSTR(",\"v\":"));
  putNum(value);
  putByte('}');
  end();
}

static void sendError(long id, PGM_P name) {
  begin();
  putP(PSTR("{\"t\":\"err\",\"i\":"));
  putNum(id);
  putP(PSTR(",\"e\":\""));
  putP(name);
  putP(PSTR("\"}"));
  end();
}

static void sendReading() {
  int value = analogRead(A0);
  begin();
  putP(PSTR("{\"t\":\"pub\",\"k\":\"a0\",\"v\":"));
  putNum(value);
  putByte('}');
  end();
}

static void sendHeartbeat() {
  begin();
  putP(PSTR("{\"t\":\"hb\"}"));
  end();
}

// ---- input: one line at a time ----

// <json> (120) + '*' + 2 hex digits + '\r' = 124: what a valid line can need.
#define LINE_MAX 124
static char line[LINE_MAX + 1];
static uint8_t lineLen;
static bool overflow;  // dropping the rest of an overlong line, up to its newline

// A value found by the scanner: where it starts in `line` and how long it is (0: key absent).
struct Span {
  uint8_t at, len;
};

static uint8_t pos;  // scanner position in line[0..lineLen)

static void skipSpace() {
  while (pos < lineLen && line[pos] == ' ') pos++;
}

// Skips a JSON string starting at pos (which is on the opening quote). False if unterminated.
static bool skipString() {
  pos++;
  while (pos < lineLen) {
    char c = line[pos++];
    if (c == '\\') {
      if (pos >= lineLen) return false;
      pos++;
    } else if (c == '"') {
      return true;
    }
  }
  return false;
}

// Skips one JSON value of any kind (nested objects and arrays by bracket depth). False if broken.
static bool skipValue() {
  skipSpace();
  if (pos >= lineLen) return false;
  char c = line[pos];
  if (c == '"') return skipString();
  if (c == '{' || c == '[') {
    uint8_t depth = 0;
    while (pos < lineLen) {
      c = line[pos];
      if (c == '"') {
        if (!skipString()) return false;
        continue;
      }
      if (c == '{' || c == '[') depth++;
      else if (c == '}' || c == ']') {
        if (depth == 0) return false;
        if (--depth == 0) { pos++; return true; }
      }
      pos++;
    }
    return false;
  }
  uint8_t start = pos;  // number, true, false, null: runs up to a delimiter
  while (pos < lineLen && line[pos] != ',' && line[pos] != '}' && line[pos] != ']' && line[pos] != ' ') pos++;
  return pos > start;
}

// Reads the top-level keys t, i, p, a of the JSON object in line[0..lineLen). False if it is not
// a well-formed object (as far as this scanner looks: strings, nesting, commas and colons).
static bool scanObject(Span &t, Span &i, Span &p, Span &a) {
  t.len = i.len = p.len = a.len = 0;
  pos = 0;
  skipSpace();
  if (pos >= lineLen || line[pos] != '{') return false;
  pos++;
  skipSpace();
  if (pos < lineLen && line[pos] == '}') { pos++; goto done; }
  for (;;) {
    skipSpace();
    if (pos >= lineLen || line[pos] != '"') return false;
    uint8_t keyAt = pos + 1;
    if (!skipString()) return false;
    uint8_t keyLen = pos - 1 - keyAt;
    skipSpace();
    if (pos >= lineLen || line[pos] != ':') return false;
    pos++;
    skipSpace();
    uint8_t valueAt = pos;
    if (!skipValue()) return false;
    if (keyLen == 1) {
      Span s = {valueAt, (uint8_t)(pos - valueAt)};
      switch (line[keyAt]) {
        case 't': t = s; break;
        case 'i': i = s; break;
        case 'p': p = s; break;
        case 'a': a = s; break;
      }
    }
    skipSpace();
    if (pos >= lineLen) return false;
    if (line[pos] == ',') { pos++; continue; }
    if (line[pos] == '}') { pos++; break; }
    return false;
  }
done:
  skipSpace();
  return pos == lineLen;  // nothing after the object
}

// A JSON string value equal to `want` (no escapes needed for the names used here).
static bool isString(const Span &s, PGM_P want) {
  uint8_t n = strlen_P(want);
  return s.len == n + 2 && line[s.at] == '"' && strncmp_P(line + s.at + 1, want, n) == 0;
}

// A plain non-negative integer of at most 5 digits; -1 otherwise.
static long asId(const Span &s) {
  if (s.len == 0 || s.len > 5) return -1;
  long n = 0;
  for (uint8_t k = 0; k < s.len; k++) {
    char c = line[s.at + k];
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

// led.set's argument: 0, 1, true or false; -1 for anything else.
static int asSwitch(const Span &s) {
  if (s.len == 1 && line[s.at] == '0') return 0;
  if (s.len == 1 && line[s.at] == '1') return 1;
  if (s.len == 4 && strncmp_P(line + s.at, PSTR("true"), 4) == 0) return 1;
  if (s.len == 5 && strncmp_P(line + s.at, PSTR("false"), 5) == 0) return 0;
  return -1;
}

static uint8_t ledState;

static void handleCall(const Span &i, const Span &p, const Span &a) {
  long id = asId(i);
  if (id < 1 || id > 65535) { sendError(0, PSTR("bad_request")); return; }
  if (p.len == 0 || line[p.at] != '"') { sendError(id, PSTR("bad_request")); return; }
  if (isString(p, PSTR("led.set"))) {
    int on = asSwitch(a);
    if (on < 0) { sendError(id, PSTR("bad_argument")); return; }
    ledState = (uint8_t)on;
    digitalWrite(LED_PIN, ledState ? HIGH : LOW);
    sendResult(id, ledState);
  } else if (isString(p, PSTR("led.get"))) {
    sendResult(id, digitalRead(LED_PIN) == HIGH ? 1 : 0);
  } else {
    sendError(id, PSTR("no_such_procedure"));
  }
}

static uint8_t hexValue(char c) {
  if (c >= '0' && c <= '9') return (uint8_t)(c - '0');
  if (c >= 'a' && c <= 'f') return (uint8_t)(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return (uint8_t)(c - 'A' + 10);
  return 0xff;
}

static void handleLine() {
  if (lineLen > 0 && line[lineLen - 1] == '\r') lineLen--;
  if (lineLen == 0) return;  // an empty line (the other side's boot newline): nothing to do
  for (uint8_t k = 0; k < lineLen; k++)
    if (line[k] < 0x20 || line[k] > 0x7e) return;  // not printable ASCII: noise, dropped
  // `*` two hex digits at the end: a checksum that must match; otherwise an unchecked line.
  if (lineLen >= 3 && line[lineLen - 3] == '*') {
    uint8_t hi = hexValue(line[lineLen - 2]), lo = hexValue(line[lineLen - 1]);
    if (hi > 15 || lo > 15) return;
    lineLen -= 3;
    uint8_t crc = 0;
    for (uint8_t k = 0; k < lineLen; k++) crc = crcStep(crc, (uint8_t)line[k]);
    if (crc != (uint8_t)((hi << 4) | lo)) return;  // damaged: dropped without an answer
  }
  if (lineLen > 120) return;
  Span t, i, p, a;
  if (!scanObject(t, i, p, a) || t.len == 0 || line[t.at] != '"') {
    sendError(0, PSTR("bad_request"));  // readable, but not a message: tell the person typing
    return;
  }
  if (isString(t, PSTR("who"))) sendHello();
  else if (isString(t, PSTR("call"))) handleCall(i, p, a);
  // any other t: ignored (a newer host may send more)
}

static void readInput() {
  // Bounded: at most what is in the receive buffer now, so readings and heartbeats keep going.
  int n = Serial.available();
  while (n-- > 0) {
    char c = (char)Serial.read();
    if (c == '\n') {
      if (!overflow) handleLine();
      overflow = false;
      lineLen = 0;
    } else if (overflow) {
      // still inside an overlong line
    } else if (lineLen >= LINE_MAX) {
      overflow = true;  // dropped up to its newline
      lineLen = 0;
    } else {
      line[lineLen++] = c;
    }
  }
}

// ---- Arduino entry points ----

static unsigned long lastPublish;

void setup() {
  pinMode(LED_PIN, OUTPUT);
  digitalWrite(LED_PIN, LOW);
  Serial.begin(BAUD);
  Serial.write('\n');  // ends whatever line a reset broke off on the host's side
  sendHello();
  lastPublish = millis();
}

void loop() {
  readInput();
  unsigned long now = millis();
  if (now - lastPublish >= PUBLISH_MS) {
    lastPublish += PUBLISH_MS;
    if (now - lastPublish >= PUBLISH_MS) lastPublish = now;  // fell behind: do not burst
    sendReading();
  } else if (now - lastTx >= HEARTBEAT_MS) {
    // the same `now` as above: a second millis() could tick past the reading that is due
    sendHeartbeat();
  }
}
