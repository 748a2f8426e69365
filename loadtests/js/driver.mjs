// The load generator of pricing-edge's benchmarks: autocannon, driven through its programmatic API.
//
//   node loadtests/js/driver.mjs config.json     → one JSON result on stdout
//
// config: {url, requests: [{method, path, headers, body}], mode: "paced" | "burst", rate, duration,
//          warmup, connections, timeout, amount}
//
// "paced" holds a fixed request rate with coordinated-omission correction. autocannon's own
// `overallRate` is a per-second quota per connection: each connection sends back to back until it
// has made its share of the second, then waits for the next second — bursts at every second
// boundary and a closed loop inside them, so queueing delay is hidden. Here autocannon keeps doing
// the connections, the HTTP, the request cycling, timeouts and status counting, and `setupClient`
// paces each connection instead: connection i of C sends at t0 + i/rate + k·C/rate. A request is
// timed from its *intended* send time when its connection was still busy with the previous answer
// at that moment (the server held it up: that wait is latency, as in wrk2), and from its actual send
// time when the connection was idle and only the generator's timer was late. Latencies go into an
// HdrHistogram (hdr-histogram-js, autocannon's own) in microseconds; autocannon's built-in histogram
// (milliseconds, from the actual send) is reported beside it.
//
// `warmup` seconds at the same rate come first and are not measured: each run measures the steady
// state of its own traffic, not the caches' state after the previous run's idle baseline.
//
// "burst": every connection sends its requests back to back (autocannon's `amount`): for "N
// concurrent identical requests", where latency is not the point.
//
// Set-up: autocannon builds every request's bytes in each connection's constructor, and again in
// `setRequests`. With the scale scenario's 10,000-request cycle × 50 connections that was a million
// builds, ~15 s of one core before the first send, while the schedule's clock was already running: every
// request counted 15 s late and the first connections' 10 s timeouts fired. Here autocannon is given one
// request; the first connection builds the whole list once (the buffers are kept on the shared request
// objects), the others share it, each starting at its own offset; and the schedule starts (t0) once every
// connection exists. `setup_s` in the result says how long that took.
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { createRequire } from 'node:module'
import autocannon from 'autocannon'
import * as hdr from 'hdr-histogram-js'

const require = createRequire(import.meta.url)
const PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100]

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 })
const cpuAtStart = process.cpuUsage()
const states = []
let stopped = false
let sent = 0
let completed = 0
let corrected = 0 // sends that were late because their connection was still busy
let mismatches = 0
const timeline = new Map() // 100 ms buckets of intended send time: [count, max latency]
const mismatchSamples = []

function verifyBody (text) {
  // A GraphQL error is an error even with HTTP 200 (e.g. cart's "Not enough stock:").
  const ok = !text.includes('"errors":')
  if (!ok && mismatchSamples.length < 3) mismatchSamples.push(text.slice(0, 300))
  if (!ok) mismatches++
  return ok
}

function setupClient (client) {
  const index = states.length
  const connections = config.connections
  const iterator = client.requestIterator // autocannon's; see "Set-up" above
  if (index === 0) {
    client.setRequests(config.requests) // builds each request's bytes once, onto the shared objects
  } else {
    iterator.requests = config.requests
  }
  iterator.currentRequestIndex = index % config.requests.length
  iterator.currentRequest = config.requests[iterator.currentRequestIndex]
  const st = { busy: false, start: 0, next: null, timer: null, interval: 0 }
  states.push(st)
  const original = Object.getPrototypeOf(client)._doRequest
  const fire = (start) => {
    st.busy = true
    st.start = start
    sent++
    original.call(client)
  }
  client.on('response', () => {
    if (st.busy && st.start >= measureFrom) {
      const latency = performance.now() - st.start
      histogram.recordValue(Math.max(1, Math.round(latency * 1000)))
      completed++
      const bucket = Math.floor((st.start - measureFrom) / 100)
      const entry = timeline.get(bucket) || [0, 0]
      entry[0]++
      entry[1] = Math.max(entry[1], latency)
      timeline.set(bucket, entry)
    }
    st.busy = false
  })
  client.on('timeout', () => { st.busy = false })
  client.on('connError', () => { st.busy = false })
  if (config.mode !== 'paced') {
    client._doRequest = function () {
      if (stopped) return
      fire(performance.now())
    }
    return
  }
  st.interval = (connections / config.rate) * 1000
  client._doRequest = function () {
    if (stopped) return
    if (t0 === null) { // still building connections: ask again once they all exist
      clearTimeout(st.timer)
      st.timer = setTimeout(() => client._doRequest(), 0)
      return
    }
    if (st.next === null) st.next = t0 + (index / config.rate) * 1000
    const now = performance.now()
    if (now >= st.next) {
      // due: when the previous answer came in after this request's time, the wait counts
      const intended = st.next
      st.next += st.interval
      if (now - intended > 1) corrected++
      fire(intended)
      return
    }
    clearTimeout(st.timer)
    st.timer = setTimeout(() => {
      if (stopped || st.busy) return
      st.next += st.interval
      fire(performance.now())
    }, st.next - now)
  }
}

function summary () {
  const at = (p) => (histogram.totalCount ? Math.round((p >= 100 ? histogram.maxValue : histogram.getValueAtPercentile(p))) / 1000 : null)
  return {
    count: histogram.totalCount,
    p50_ms: at(50),
    p90_ms: at(90),
    p99_ms: at(99),
    p999_ms: at(99.9),
    max_ms: at(100),
    curve: histogram.totalCount ? PERCENTILES.map((p) => [p, at(p)]) : []
  }
}

const started = performance.now()
let t0 = null // when connection 0's first request is due: set once every connection exists
const warmup = config.mode === 'paced' ? (config.warmup || 0) : 0 // sent at the rate, not measured
// burst: every request counts, the first ones sent while the connections are built included
let measureFrom = config.mode === 'paced' ? Infinity : started
const instance = autocannon({
  url: config.url,
  connections: config.connections,
  pipelining: 1,
  duration: (config.warmup || 0) + config.duration + 60, // stopped by us below; never by autocannon mid-flight
  amount: config.mode === 'burst' ? config.amount : undefined,
  timeout: config.timeout,
  requests: [config.requests[0]], // the whole list is set per connection (setupClient)
  setupClient,
  verifyBody
}, (error, result) => {
  if (error) {
    process.stderr.write(String(error.stack || error) + '\n')
    process.exit(1)
  }
  if (config.mode !== 'paced') measuredUntil = performance.now()
  const elapsed = (measuredUntil - measureFrom) / 1000
  const cpu = process.cpuUsage(cpuAtStart)
  const { version } = require('autocannon/package.json')
  process.stdout.write(JSON.stringify({
    generator: { name: 'autocannon', version, node: process.version, mode: config.mode, cpu_s: (cpu.user + cpu.system) / 1e6 },
    target_rate: config.rate || null,
    duration_s: elapsed,
    connections: config.connections,
    setup_s: setupSeconds,
    sent,
    completed,
    unfinished: states.filter((s) => s.busy).length,
    achieved_rate: elapsed > 0 ? completed / elapsed : null,
    corrected_sends: corrected,
    errors: { non2xx: result.non2xx, graphql: mismatches, timeouts: result.timeouts, connection: result.errors - result.timeouts },
    status_codes: result.statusCodeStats,
    error_samples: mismatchSamples,
    latency: summary(),
    timeline: [...timeline.entries()].sort((a, b) => a[0] - b[0]).map(([b, [n, max]]) => [b / 10, n, Math.round(max * 1000) / 1000]),
    latency_autocannon: result.latency
  }) + '\n')
  process.exit(0)
})

const setupSeconds = (performance.now() - started) / 1000
t0 = performance.now() + 50
if (config.mode === 'paced') measureFrom = t0 + warmup * 1000
let measuredUntil = performance.now()
if (config.mode === 'paced') {
  setTimeout(() => {
    stopped = true
    measuredUntil = performance.now()
    const deadline = performance.now() + config.timeout * 1000
    const wait = setInterval(() => {
      if (!states.some((s) => s.busy) || performance.now() > deadline) {
        clearInterval(wait)
        instance.stop()
      }
    }, 5)
  }, 50 + (warmup + config.duration) * 1000)
} else {
  // burst: autocannon stops by itself once every connection has made its `amount` share
  instance.on('done', () => { measuredUntil = performance.now() })
}
