/**
 * Double Ratchet throughput and PQXDH session set-up, against raw libsodium XChaCha20-Poly1305 of the
 * same sizes measured in the same run (so a busy machine shows in both). Prints figures and ratios.
 * Run: npm run bench:ratchet
 */
import { randomBytes } from 'node:crypto';
import { xchachaDecrypt, xchachaEncrypt } from '../../app/core/crypto/aead.js';
import { IdentityKeyPair } from '../../app/core/crypto/identity.js';
import { pqxdhInitiate, pqxdhRespond } from '../../app/core/crypto/pqxdh.js';
import { initInitiator, initResponder, ratchetDecrypt, ratchetEncrypt } from '../../app/core/crypto/ratchet.js';
import type { RatchetState } from '../../app/core/crypto/ratchet-state.js';
import { loadSodium, type Sodium } from '../../app/core/crypto/sodium.js';
import { bundleOf, establish, makeResponder, unwrap, type Responder } from '../support/sessions.js';

const MESSAGE_BYTES = 1024;
const MESSAGES = 20_000;
const SETUPS = 200;
const ROUNDS = 3;

function best(run: () => number): number {
  let fastest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round += 1) fastest = Math.min(fastest, run());
  return fastest;
}

/** Seconds for MESSAGES encrypt+decrypt pairs of raw XChaCha20-Poly1305 with a random nonce per message. */
function rawAead(sodium: Sodium, message: Uint8Array): number {
  const key = Uint8Array.from(randomBytes(32));
  const ad = Uint8Array.from(randomBytes(104));
  const started = performance.now();
  for (let i = 0; i < MESSAGES; i += 1) {
    const nonce = Uint8Array.from(randomBytes(24));
    const sealed = xchachaEncrypt(sodium, key, nonce, message, ad);
    if (xchachaDecrypt(sodium, key, nonce, sealed, ad) === undefined) throw new Error('raw AEAD failed');
  }
  return (performance.now() - started) / 1000;
}

/** Seconds for MESSAGES ratchet encrypt+decrypt pairs; the reply direction turns every 100 messages (DH steps). */
function ratchet(sodium: Sodium, message: Uint8Array): number {
  const pair = establish(sodium);
  let states: Record<'alice' | 'bob', RatchetState> = { alice: pair.alice, bob: pair.bob };
  const now = Date.now();
  const started = performance.now();
  for (let i = 0; i < MESSAGES; i += 1) {
    const [from, to] = Math.floor(i / 100) % 2 === 0 ? (['alice', 'bob'] as const) : (['bob', 'alice'] as const);
    const sent = unwrap(ratchetEncrypt(sodium, states[from], message));
    const received = unwrap(ratchetDecrypt(sodium, states[to], sent.message, now));
    states = { ...states, [from]: sent.state, [to]: received.state };
  }
  return (performance.now() - started) / 1000;
}

/** Seconds for SETUPS full session set-ups on both sides (bundle verification, PQXDH, first ratchet message). */
function setups(sodium: Sodium, alice: IdentityKeyPair, responders: readonly Responder[], message: Uint8Array): number {
  const now = Date.now();
  const started = performance.now();
  for (const bob of responders) {
    const init = unwrap(pqxdhInitiate(sodium, alice, bundleOf(bob)));
    const aliceState = unwrap(initInitiator(sodium, init.sk, bob.signed.keyPair.publicKey, init.ad));
    const first = unwrap(ratchetEncrypt(sodium, aliceState, message));
    const response = unwrap(pqxdhRespond(sodium, bob.identity, init.header, { signedPrekey: bob.signed.keyPair, oneTimePrekey: bob.oneTime.keyPair, pqPrekey: bob.pq.keyPair }));
    unwrap(ratchetDecrypt(sodium, initResponder(response.sk, bob.signed.keyPair, response.ad), first.message, now));
  }
  return (performance.now() - started) / 1000;
}

const sodium = await loadSodium();
const message = Uint8Array.from(randomBytes(MESSAGE_BYTES));
const alice = IdentityKeyPair.generate(sodium);
const responders = Array.from({ length: SETUPS }, () => makeResponder(sodium));

const rawSeconds = best(() => rawAead(sodium, message));
const ratchetSeconds = best(() => ratchet(sodium, message));
const setupSeconds = best(() => setups(sodium, alice, responders, message));

const rawRate = MESSAGES / rawSeconds;
const ratchetRate = MESSAGES / ratchetSeconds;
const setupMs = (setupSeconds * 1000) / SETUPS;
console.log(`message size                         ${MESSAGE_BYTES} B, ${MESSAGES} messages, best of ${ROUNDS}`);
console.log(`raw XChaCha20-Poly1305 enc+dec       ${Math.round(rawRate).toLocaleString('en')} msg/s`);
console.log(`Double Ratchet enc+dec               ${Math.round(ratchetRate).toLocaleString('en')} msg/s  (target >= 5,000)`);
console.log(`ratchet / raw AEAD                   ${(ratchetRate / rawRate).toFixed(3)}`);
console.log(`session set-up, both sides           ${setupMs.toFixed(2)} ms  (${Math.round(1000 / setupMs).toLocaleString('en')}/s, target < 5 ms)`);
console.log(`set-up / one raw AEAD message        ${(setupMs / (1000 / rawRate)).toFixed(0)}x`);
