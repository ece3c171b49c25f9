#!/usr/bin/env node
// Test-only harness: fill an XForm with the real ODK Web Forms engine
// (@getodk/xforms-engine) running headless in Node + jsdom, and write the
// submission exactly as the engine serializes it.
//
//   node fill.mjs REQUEST.json
//
// REQUEST.json:
//   {"form": "/abs/form.xml",
//    "attachments_dir": "/abs/dir"   (optional; form media: csv, xml, geojson, images),
//    "out_dir": "/abs/out",
//    "preload": {"deviceID": "...", "username": "...", ...}   (optional),
//    "steps": [ {"op": "set", "ref": "/data/x", "value": "..."}, ... ]}
//
// Step ops (refs are the engine's own references: absolute, 1-based repeat
// positions on every repeat instance, e.g. /data/members[2]/age):
//   set          {"ref", "value"}             text/number/date/... inputs, ranges, triggers
//   select       {"ref", "value"}             select_one
//                {"ref", "values": [...]}     select_multiple (and rank, where order matters)
//   add_repeat   {"ref", "count"=1}           append `count` repeat instances
//   repeat_count {"ref", "count"}             add/remove instances at the end until exactly `count`
//   attach       {"ref", "file", "name"?}     upload/image question; `name` overrides the file name
//
// On success writes OUT/instance.xml (bytes as produced by the engine) and
// every instance attachment the engine put in the payload, and prints
// {"instance": ..., "instance_id": ..., "attachments": [...]} on stdout.
// On any failure: message on stderr, exit code 1 (2 for bad usage).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';

class HarnessError extends Error {}

// The engine (and the emscripten/tree-sitter code inside it) may log; stdout
// is reserved for the JSON summary the Python wrapper parses.
for (const level of ['log', 'info', 'debug', 'warn']) {
  console[level] = (...args) => console.error(...args);
}

const MIN_NODE = [20, 19, 0];

const checkNodeVersion = () => {
  const have = process.versions.node.split('.').map(Number);
  for (let i = 0; i < MIN_NODE.length; i += 1) {
    if (have[i] > MIN_NODE[i]) return;
    if (have[i] < MIN_NODE[i]) {
      throw new HarnessError(
        `Node ${process.versions.node} is too old: @getodk/xforms-engine needs >= ${MIN_NODE.join('.')}`,
      );
    }
  }
};

// The engine is written for browsers: it parses XForms with DOMParser, walks
// them with the DOM and XPath APIs, and builds instance documents. jsdom gives
// it those, but only if they are reachable as globals.
const installDomGlobals = () => {
  const { window } = new JSDOM('<!DOCTYPE html><html><head></head><body></body></html>');
  globalThis.window = window;
  for (const name of [
    'document', 'DOMParser', 'XMLSerializer', 'Node', 'Element', 'Document', 'XMLDocument',
    'XPathResult', 'XPathEvaluator', 'DocumentFragment', 'Attr', 'Text', 'NodeFilter',
  ]) {
    globalThis[name] = window[name];
  }
};

// The bundled tree-sitter (emscripten) module sees `process` and takes its
// Node branch, which expects CommonJS's `__dirname` (to locate its files) and
// a `module` object to export into. In an ES module neither exists.
const installEmscriptenGlobals = () => {
  const engineEntry = fileURLToPath(import.meta.resolve('@getodk/xforms-engine'));
  globalThis.__dirname = path.dirname(engineEntry);
  globalThis.module = { exports: {} };
};

const MEDIA_TYPES = {
  '.csv': 'text/csv',
  '.xml': 'text/xml',
  '.geojson': 'application/geo+json',
  '.json': 'application/json',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.wav': 'audio/wav',
  '.amr': 'audio/amr',
  '.ogg': 'audio/ogg',
  '.mp4': 'video/mp4',
  '.3gp': 'video/3gpp',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
};

const mediaTypeOf = (fileName) =>
  MEDIA_TYPES[path.extname(fileName).toLowerCase()] ?? 'application/octet-stream';

// Form media are referenced as jr://<kind>/<path> (jr://file-csv/x.csv,
// jr://file/x.xml, jr://images/x.png, ...). Servers publish them flat under
// the form's media, so the <path> part is looked up in attachments_dir.
// A 404 lets the engine apply its own missing-resource rule (an error by
// default) and name the URL in its failure.
const makeAttachmentFetcher = (attachmentsDir) => async (url) => {
  const href = String(url);
  const match = /^jr:\/\/[^/]+\/(.+)$/.exec(href);
  if (attachmentsDir == null || match == null) {
    return new Response(`no attachment for ${href}`, { status: 404 });
  }
  const relative = decodeURIComponent(match[1]);
  const resolved = path.resolve(attachmentsDir, relative);
  if (!resolved.startsWith(path.resolve(attachmentsDir) + path.sep) || !fs.existsSync(resolved)) {
    process.stderr.write(`fill.mjs: form attachment not found: ${href} (looked for ${resolved})\n`);
    return new Response(`no attachment for ${href}`, { status: 404 });
  }
  return new Response(fs.readFileSync(resolved), {
    status: 200,
    headers: { 'content-type': mediaTypeOf(resolved) },
  });
};

// References change when repeat instances are added or removed, so the tree
// is walked afresh for every step rather than indexed once.
const collectNodes = (node, into = new Map()) => {
  into.set(node.currentState.reference, node);
  for (const child of node.currentState.children ?? []) {
    collectNodes(child, into);
  }
  return into;
};

const describeStep = (index, step) => `step ${index + 1} ${JSON.stringify(step)}`;

const findNode = (root, ref, where) => {
  const nodes = collectNodes(root);
  const node = nodes.get(ref);
  if (node == null) {
    const known = [...nodes.keys()].join(', ');
    throw new HarnessError(`${where}: no node with ref "${ref}". Refs in the form now: ${known}`);
  }
  return node;
};

const requireNodeType = (node, allowed, where) => {
  if (!allowed.includes(node.nodeType)) {
    throw new HarnessError(
      `${where}: node ${node.currentState.reference} is a "${node.nodeType}" node; this op needs one of ${allowed.join(', ')}`,
    );
  }
};

// A person filling the form never sees non-relevant or read-only questions,
// so answering one is a mistake in the test, not something to let through.
const requireAnswerable = (node, where) => {
  const { relevant, readonly, reference } = node.currentState;
  if (!relevant) {
    throw new HarnessError(`${where}: ${reference} is not relevant (hidden) at this point of the form`);
  }
  if (readonly) {
    throw new HarnessError(`${where}: ${reference} is read-only`);
  }
};

const toText = (value, where) => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new HarnessError(`${where}: "value" must be a string (or number), got ${JSON.stringify(value)}`);
};

const isNumber = (token) => /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(token);

// Token-wise comparison (geo values are space/semicolon separated lists):
// equal strings, or numerals of the same number.
const sameValue = (stored, wanted) => {
  if (stored === wanted) return true;
  const a = stored.trim().split(/[\s;]+/);
  const b = wanted.trim().split(/[\s;]+/);
  return (
    stored.split(';').length === wanted.split(';').length &&
    a.length === b.length &&
    a.every((token, i) => token === b[i] || (isNumber(token) && isNumber(b[i]) && Number(token) === Number(b[i])))
  );
};

const applySet = (root, step, where) => {
  const node = findNode(root, step.ref, where);
  requireNodeType(node, ['input', 'range', 'trigger'], where);
  requireAnswerable(node, where);
  if (!('value' in step)) throw new HarnessError(`${where}: "set" needs a "value"`);

  if (node.nodeType === 'trigger') {
    // Triggers (acknowledge) only take a boolean; the engine serializes true as "OK".
    const value = step.value;
    node.setValue(value === true || value === 'OK' || value === 'true');
    return;
  }

  const wanted = toText(step.value, where);
  node.setValue(wanted);
  // The engine does not throw on a value its type cannot hold: it silently
  // stores "" (e.g. "abc" in an integer) or a coerced value (e.g. "1.5" -> "1").
  // Only its canonical spelling of the same numbers ("08" -> "8",
  // geopoint "… 10 5" -> "… 10.0 5.0") is let through; text must match exactly.
  const stored = node.currentState.instanceValue;
  const accepted = node.valueType === 'string' ? stored === wanted : sameValue(stored, wanted);
  if (!accepted) {
    throw new HarnessError(
      `${where}: the engine rejected or rewrote the value of ${node.currentState.reference} ` +
        `(type ${node.valueType}): asked for ${JSON.stringify(wanted)}, it stored ${JSON.stringify(stored)}`,
    );
  }
};

const applySelect = (root, step, where) => {
  const node = findNode(root, step.ref, where);
  requireNodeType(node, ['select', 'rank'], where);
  requireAnswerable(node, where);

  let values;
  if (Array.isArray(step.values)) {
    values = step.values.map((v) => toText(v, where));
  } else if ('value' in step) {
    values = [toText(step.value, where)];
  } else {
    throw new HarnessError(`${where}: "select" needs "value" (select_one) or "values" (select_multiple)`);
  }

  // Choices can depend on earlier answers (choice_filter) or on a CSV, so
  // they are checked against what the engine offers right now. The engine
  // itself would silently drop an unknown value.
  const offered = node.currentState.valueOptions.map((item) => item.value);
  const unknown = values.filter((v) => !offered.includes(v));
  if (unknown.length > 0) {
    throw new HarnessError(
      `${where}: ${JSON.stringify(unknown)} not among the choices the engine offers for ` +
        `${node.currentState.reference}: ${JSON.stringify(offered)}`,
    );
  }

  if (node.nodeType === 'rank') {
    node.setValues(values);
  } else if (node.selectType === 'select1') {
    if (values.length > 1) {
      throw new HarnessError(`${where}: ${node.currentState.reference} is a select_one; give one value`);
    }
    node.selectValue(values[0] ?? null);
  } else {
    node.selectValues(values);
  }

  const selected = [...node.currentState.value];
  if (JSON.stringify(selected) !== JSON.stringify(values)) {
    throw new HarnessError(
      `${where}: the engine did not keep the selection for ${node.currentState.reference}: ` +
        `asked for ${JSON.stringify(values)}, it holds ${JSON.stringify(selected)}`,
    );
  }
};

const repeatRange = (root, step, where) => {
  const node = findNode(root, step.ref, where);
  if (node.nodeType === 'repeat-range:controlled') {
    throw new HarnessError(
      `${where}: ${step.ref} has a repeat_count in the form; its instances are set by the form, not added`,
    );
  }
  requireNodeType(node, ['repeat-range:uncontrolled'], where);
  if (!node.currentState.relevant) {
    throw new HarnessError(`${where}: repeat ${step.ref} is not relevant at this point of the form`);
  }
  return node;
};

const repeatCount = (step, where, fallback) => {
  const count = step.count ?? fallback;
  if (!Number.isInteger(count) || count < 0) {
    throw new HarnessError(`${where}: "count" must be a non-negative integer`);
  }
  return count;
};

const applyAddRepeat = (root, step, where) => {
  const node = repeatRange(root, step, where);
  const count = repeatCount(step, where, 1);
  if (count > 0) node.addInstances(node.currentState.children.length - 1, count);
};

// pyxform writes one non-template instance of every repeat, and the engine
// starts from it, so "how many instances" is often easier to state than "how
// many to add".
const applyRepeatCount = (root, step, where) => {
  const node = repeatRange(root, step, where);
  const wanted = repeatCount(step, where, undefined);
  const have = node.currentState.children.length;
  if (wanted > have) node.addInstances(have - 1, wanted - have);
  if (wanted < have) node.removeInstances(wanted, have - wanted);
  if (node.currentState.children.length !== wanted) {
    throw new HarnessError(
      `${where}: expected ${wanted} instances of ${step.ref}, engine has ${node.currentState.children.length}`,
    );
  }
};

const applyAttach = (root, step, where) => {
  const node = findNode(root, step.ref, where);
  requireNodeType(node, ['upload'], where);
  requireAnswerable(node, where);
  if (typeof step.file !== 'string' || !fs.existsSync(step.file)) {
    throw new HarnessError(`${where}: "file" must be an existing file path, got ${JSON.stringify(step.file)}`);
  }
  const name = step.name ?? path.basename(step.file);
  const file = new File([fs.readFileSync(step.file)], name, { type: mediaTypeOf(name) });
  node.setValue(file);
  const stored = node.currentState.instanceValue;
  if (stored !== name) {
    throw new HarnessError(
      `${where}: the engine recorded ${JSON.stringify(stored)} for ${node.currentState.reference}, expected ${JSON.stringify(name)}`,
    );
  }
};

const OPS = {
  set: applySet,
  select: applySelect,
  add_repeat: applyAddRepeat,
  repeat_count: applyRepeatCount,
  attach: applyAttach,
};

const describeViolation = ({ reference, violation }) => {
  const message = violation.message?.asString;
  return `  ${reference}: ${violation.condition}${message ? ` (${message})` : ''}`;
};

// The instanceID is read back from the serialized XML rather than the node
// tree, so the summary reports what is actually going to be submitted.
const readInstanceId = (xml) => {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  if (doc.getElementsByTagName('parsererror').length > 0) {
    throw new HarnessError(`the engine produced XML that does not parse:\n${xml}`);
  }
  const ids = [...doc.documentElement.children]
    .filter((el) => el.localName === 'meta')
    .flatMap((meta) => [...meta.children].filter((el) => el.localName === 'instanceID'));
  return ids.length === 1 ? ids[0].textContent : null;
};

const readRequest = (requestPath) => {
  let request;
  try {
    request = JSON.parse(fs.readFileSync(requestPath, 'utf8'));
  } catch (error) {
    throw new HarnessError(`cannot read request ${requestPath}: ${error.message}`);
  }
  for (const key of ['form', 'out_dir']) {
    if (typeof request[key] !== 'string' || !path.isAbsolute(request[key])) {
      throw new HarnessError(`request "${key}" must be an absolute path`);
    }
  }
  if (request.attachments_dir != null && !fs.statSync(request.attachments_dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new HarnessError(`attachments_dir is not a directory: ${request.attachments_dir}`);
  }
  if (!Array.isArray(request.steps ?? [])) {
    throw new HarnessError('request "steps" must be a list');
  }
  return request;
};

const main = async () => {
  if (process.argv.length !== 3) {
    process.stderr.write('usage: node fill.mjs REQUEST.json\n');
    return 2;
  }
  checkNodeVersion();
  const request = readRequest(process.argv[2]);

  installDomGlobals();
  installEmscriptenGlobals();
  // Imported only now: the engine reads the globals above while loading.
  const { loadForm } = await import('@getodk/xforms-engine');

  const formXml = fs.readFileSync(request.form, 'utf8');
  const loaded = await loadForm(formXml, {
    fetchFormAttachment: makeAttachmentFetcher(request.attachments_dir ?? null),
  });
  if (loaded.status === 'failure') {
    throw new HarnessError(`the engine could not load ${request.form}: ${loaded.error?.message ?? loaded.error}`);
  }
  if (loaded.status === 'warning') {
    process.stderr.write(`fill.mjs: engine warnings while loading the form: ${JSON.stringify(loaded.warnings)}\n`);
  }

  const instance = loaded.createInstance({ preloadProperties: request.preload ?? {} });
  const { root } = instance;

  (request.steps ?? []).forEach((step, index) => {
    const where = describeStep(index, step);
    const apply = OPS[step?.op];
    if (apply == null) {
      throw new HarnessError(`${where}: unknown op; use one of ${Object.keys(OPS).join(', ')}`);
    }
    if (typeof step.ref !== 'string') {
      throw new HarnessError(`${where}: "ref" must be a string`);
    }
    try {
      apply(root, step, where);
    } catch (error) {
      if (error instanceof HarnessError) throw error;
      throw new HarnessError(`${where}: the engine threw: ${error.stack ?? error}`);
    }
  });

  // Same gate a person meets when finalizing: every required question
  // answered, every constraint satisfied.
  const violations = root.validationState.violations;
  if (violations.length > 0) {
    throw new HarnessError(
      `the engine reports the filled form invalid (${violations.length} violation(s)):\n` +
        violations.map(describeViolation).join('\n'),
    );
  }

  const payload = await root.prepareInstancePayload({ payloadType: 'monolithic' });
  if (payload.status !== 'ready') {
    throw new HarnessError(
      `the engine's payload is "${payload.status}", not ready:\n` +
        (payload.violations ?? []).map(describeViolation).join('\n'),
    );
  }

  const [data] = payload.data;
  const instanceFile = data.get('xml_submission_file');
  const xmlBytes = Buffer.from(await instanceFile.arrayBuffer());
  const instanceId = readInstanceId(xmlBytes.toString('utf8'));
  if (instanceId == null) {
    throw new HarnessError('the serialized instance has no single meta/instanceID');
  }

  fs.mkdirSync(request.out_dir, { recursive: true });
  const instancePath = path.join(request.out_dir, 'instance.xml');
  fs.writeFileSync(instancePath, xmlBytes);

  const attachments = [];
  for (const [name, file] of data.entries()) {
    if (name === 'xml_submission_file') continue;
    if (name !== path.basename(name) || name === 'instance.xml' || attachments.includes(name)) {
      throw new HarnessError(`refusing to write instance attachment named ${JSON.stringify(name)}`);
    }
    fs.writeFileSync(path.join(request.out_dir, name), Buffer.from(await file.arrayBuffer()));
    attachments.push(name);
  }

  process.stdout.write(`${JSON.stringify({ instance: instancePath, instance_id: instanceId, attachments })}\n`);
  return 0;
};

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`fill.mjs: ${error instanceof HarnessError ? error.message : error.stack ?? error}\n`);
  process.exitCode = 1;
}
