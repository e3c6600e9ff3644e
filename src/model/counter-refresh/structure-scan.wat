;; StructureScanner's core (structure-scanner.ts drives it): one call reads every line of a slice of
;; iptables-save output — digest, packet counters, line count — exactly as the TypeScript reference
;; (reference-structure-scanner.ts) does; the tests hold the two equal. After editing, regenerate
;; structure-scan-wasm.ts with `npm run build:wasm` (a test fails while they differ).
;;
;; Memory (the layout is exported as globals, so the driver does not repeat it):
;;   0           state, loaded by `scan` and stored back when it returns (the driver keeps it between
;;               calls, so one instance serves every scanner): i32 at 0 h1, 4 h2, 8 lines read so far,
;;               12 error (0 none, 1 malformed counters, 2 line longer than maxLineBytes),
;;               16 bytes digested by this call, 20 twenty-digit counters left to the driver,
;;               24 the kind of the unordered run being read (0 none, 1 KUBE-SERVICES, 2 KUBE-NODEPORTS),
;;               28 and 32 its two sums
;;   64          packets: one f64 per line read by this call, at most packetsCapacity lines a call
;;   inputBase   the driver's bytes, then 16 bytes of slack (words are read 8 bytes at a time)
;;
;; The digest: each line's bytes go through two 32-bit lanes, four bytes a block from the start of
;; each hashed segment (lane 1 MurmurHash3's block mix, lane 2 a MurmurHash2 multiply), the bytes
;; after the last whole block through FNV-1a (lane 1) and a multiply (lane 2); then a "mix" of one
;; byte (the same as a tail byte) for a counter (0xff) and for the end of each line (\n).
;;
;; Rules of KUBE-SERVICES and KUBE-NODEPORTS, whose order kube-proxy changes at every sync, are
;; digested as a multiset (unordered-chains.ts says why): such a line after its counters is hashed
;; with lanes of its own (from the offsets, \n included), fmix32 of each lane is added into the run's
;; two sums, and the digest gets a mix of the line's kind (1 or 2) in place of its bytes. When a line
;; of another kind follows, the sums go into the digest as two blocks (the driver does this at the
;; end of the output).
(module
  (import "env" "maxLineBytes" (global $maxLineBytes i32))
  (memory (export "memory") 1)
  (global $packetsBase (export "packetsBase") i32 (i32.const 64))
  (global $packetsCapacity (export "packetsCapacity") i32 (i32.const 8192))
  (global $inputBase (export "inputBase") i32 (i32.const 65600))

  ;; Index of the first \n at or after $p (there is one: every line the driver passes ends in \n).
  (func $newline (param $p i32) (result i32)
    (local $x i64) (local $t i64)
    (loop $word
      ;; Bit 7 of the lowest byte that is \n is set in $t (the classic "has a zero byte" test on w ^ \n…).
      (local.set $x (i64.xor (i64.load (local.get $p)) (i64.const 0x0a0a0a0a0a0a0a0a)))
      (local.set $t
        (i64.and
          (i64.and (i64.sub (local.get $x) (i64.const 0x0101010101010101)) (i64.xor (local.get $x) (i64.const -1)))
          (i64.const 0x8080808080808080)))
      (if (i64.eqz (local.get $t))
        (then
          (local.set $p (i32.add (local.get $p) (i32.const 8)))
          (br $word))))
    (i32.add (local.get $p) (i32.wrap_i64 (i64.shr_u (i64.ctz (local.get $t)) (i64.const 3)))))

  ;; 1 when `-A KUBE-SERVICES ` starts at $q, 2 for `-A KUBE-NODEPORTS `, else 0. The later words are
  ;; read only after `-A KUBE-` matched (no \n in it), so at most 10 bytes past the line's \n.
  (func $kind (param $q i32) (result i32)
    (if (i64.ne (i64.load (local.get $q)) (i64.const 0x2d4542554b20412d))
      (then (return (i32.const 0))))
    (if (i32.and
          (i64.eq (i64.load (i32.add (local.get $q) (i32.const 8))) (i64.const 0x5345434956524553))
          (i32.eq (i32.load8_u (i32.add (local.get $q) (i32.const 16))) (i32.const 32)))
      (then (return (i32.const 1))))
    (if (i32.and
          (i64.eq (i64.load (i32.add (local.get $q) (i32.const 8))) (i64.const 0x54524f5045444f4e))
          (i32.eq (i32.load16_u (i32.add (local.get $q) (i32.const 16))) (i32.const 0x2053)))
      (then (return (i32.const 2))))
    (i32.const 0))

  ;; Index of the first `]` or \n at or after $p, eight bytes a step (as $newline, with two tests).
  (func $closeOrNewline (param $p i32) (result i32)
    (local $w i64) (local $x i64) (local $y i64) (local $t i64)
    (loop $word
      (local.set $w (i64.load (local.get $p)))
      (local.set $x (i64.xor (local.get $w) (i64.const 0x0a0a0a0a0a0a0a0a)))
      (local.set $y (i64.xor (local.get $w) (i64.const 0x5d5d5d5d5d5d5d5d)))
      (local.set $t
        (i64.and
          (i64.or
            (i64.and (i64.sub (local.get $x) (i64.const 0x0101010101010101)) (i64.xor (local.get $x) (i64.const -1)))
            (i64.and (i64.sub (local.get $y) (i64.const 0x0101010101010101)) (i64.xor (local.get $y) (i64.const -1))))
          (i64.const 0x8080808080808080)))
      (if (i64.eqz (local.get $t))
        (then
          (local.set $p (i32.add (local.get $p) (i32.const 8)))
          (br $word))))
    (i32.add (local.get $p) (i32.wrap_i64 (i64.shr_u (i64.ctz (local.get $t)) (i64.const 3)))))

  ;; MurmurHash3's finaliser.
  (func $fmix (param $h i32) (result i32)
    (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))
    (local.set $h (i32.mul (local.get $h) (i32.const 0x85ebca6b)))
    (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 13))))
    (local.set $h (i32.mul (local.get $h) (i32.const 0xc2b2ae35)))
    (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))

  ;; Reads the lines in [$pos, $end) — each ends in \n, the last one at $end - 1 — until the packets
  ;; area is full or a line cannot be read exactly (error set in the state). Returns where it stopped.
  (func (export "scan") (param $pos i32) (param $end i32) (result i32)
    (local $h1 i32) (local $h2 i32) (local $line i32) (local $error i32) (local $digested i32) (local $fixups i32)
    (local $pp i32) (local $ppEnd i32)
    (local $s i32) (local $nl i32) (local $i i32) (local $j i32) (local $c i32) (local $n i32)
    (local $acc i64) (local $packets f64)
    (local $p i32) (local $w i64) (local $x i64) (local $t i64) (local $lo i32) (local $k i32)
    (local $last i32) (local $open i32) (local $e i32) (local $counters i32) (local $y i32)
    (local $lineKind i32) (local $q i32) (local $runKind i32) (local $sum1 i32) (local $sum2 i32) (local $sh1 i32) (local $sh2 i32)
    (local.set $h1 (i32.load (i32.const 0)))
    (local.set $h2 (i32.load (i32.const 4)))
    (local.set $line (i32.load (i32.const 8)))
    (local.set $runKind (i32.load (i32.const 24)))
    (local.set $sum1 (i32.load (i32.const 28)))
    (local.set $sum2 (i32.load (i32.const 32)))
    (local.set $pp (global.get $packetsBase))
    (local.set $ppEnd (i32.add (global.get $packetsBase) (i32.shl (global.get $packetsCapacity) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $pos) (local.get $end)))
        (br_if $done (i32.eq (local.get $pp) (local.get $ppEnd)))
        (local.set $s (local.get $pos))
        (local.set $line (i32.add (local.get $line) (i32.const 1)))
        (local.set $packets (f64.const 0))

        ;; The line's kind: `-A KUBE-SERVICES ` or `-A KUBE-NODEPORTS ` at its start, or after the
        ;; first `]` and one space. A run of another kind ends here: its sums go into the digest.
        (local.set $lineKind (i32.const 0))
        (if (i32.eq (i32.load8_u (local.get $s)) (i32.const 91))
          (then
            (local.set $q (call $closeOrNewline (i32.add (local.get $s) (i32.const 1))))
            (if (i32.and
                  (i32.eq (i32.load8_u (local.get $q)) (i32.const 93))
                  (i32.eq (i32.load8_u (i32.add (local.get $q) (i32.const 1))) (i32.const 32)))
              (then (local.set $lineKind (call $kind (i32.add (local.get $q) (i32.const 2)))))))
          (else (local.set $lineKind (call $kind (local.get $s)))))
        (if (i32.and (i32.ne (local.get $runKind) (i32.const 0)) (i32.ne (local.get $runKind) (local.get $lineKind)))
          (then
            ;; The two sums as two blocks of both lanes (TwoLaneHash.bytes over their 8 bytes).
            (local.set $h1
              (i32.add
                (i32.mul
                  (i32.rotl
                    (i32.xor (local.get $h1)
                      (i32.mul (i32.rotl (i32.mul (local.get $sum1) (i32.const 0xcc9e2d51)) (i32.const 15)) (i32.const 0x1b873593)))
                    (i32.const 13))
                  (i32.const 5))
                (i32.const 0xe6546b64)))
            (local.set $h2 (i32.mul (i32.xor (local.get $h2) (local.get $sum1)) (i32.const 0x5bd1e995)))
            (local.set $h2 (i32.xor (local.get $h2) (i32.shr_u (local.get $h2) (i32.const 15))))
            (local.set $h1
              (i32.add
                (i32.mul
                  (i32.rotl
                    (i32.xor (local.get $h1)
                      (i32.mul (i32.rotl (i32.mul (local.get $sum2) (i32.const 0xcc9e2d51)) (i32.const 15)) (i32.const 0x1b873593)))
                    (i32.const 13))
                  (i32.const 5))
                (i32.const 0xe6546b64)))
            (local.set $h2 (i32.mul (i32.xor (local.get $h2) (local.get $sum2)) (i32.const 0x5bd1e995)))
            (local.set $h2 (i32.xor (local.get $h2) (i32.shr_u (local.get $h2) (i32.const 15))))
            (local.set $digested (i32.add (local.get $digested) (i32.const 8)))
            (local.set $sum1 (i32.const 0))
            (local.set $sum2 (i32.const 0))))
        (local.set $runKind (local.get $lineKind))

        (block $error
          (block $malformed
            (block $measure
              (block $hashToNewline
                (local.set $c (i32.load8_u (local.get $s)))

                ;; `[packets:bytes] rule`: the packets are kept, the digits are not digested.
                (if (i32.eq (local.get $c) (i32.const 91))
                  (then
                    (local.set $i (i32.add (local.get $s) (i32.const 1)))
                    (local.set $acc (i64.const 0))
                    (block $end
                      (loop $digit
                        (local.set $c (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)))
                        (br_if $end (i32.ge_u (local.get $c) (i32.const 10)))
                        (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br $digit)))
                    (local.set $n (i32.sub (local.get $i) (i32.add (local.get $s) (i32.const 1))))
                    (br_if $malformed
                      (i32.or
                        (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 20)))
                        (i32.ne (i32.load8_u (local.get $i)) (i32.const 58))))
                    (if (i32.eq (local.get $n) (i32.const 20))
                      (then
                        ;; Beyond u64: the driver rounds the text itself; -(address of the digits + 1) marks it.
                        (local.set $packets (f64.neg (f64.convert_i32_u (i32.add (local.get $s) (i32.const 2)))))
                        (local.set $fixups (i32.add (local.get $fixups) (i32.const 1))))
                      (else
                        ;; Exact in u64 (at most 19 digits), then rounded once to nearest: Number(text).
                        (local.set $packets (f64.convert_i64_u (local.get $acc)))))
                    (local.set $j (i32.add (local.get $i) (i32.const 1)))
                    (local.set $i (local.get $j))
                    (block $end
                      (loop $digit
                        (br_if $end (i32.ge_u (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)) (i32.const 10)))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br $digit)))
                    (local.set $n (i32.sub (local.get $i) (local.get $j)))
                    (br_if $malformed
                      (i32.or
                        (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 20)))
                        (i32.ne (i32.load8_u (local.get $i)) (i32.const 93))))
                    ;; mix(0xff)
                    (local.set $h1 (i32.mul (i32.xor (local.get $h1) (i32.const 255)) (i32.const 0x01000193)))
                    (local.set $h2 (i32.mul (i32.xor (local.get $h2) (i32.const 255)) (i32.const 0x5bd1e995)))
                    (local.set $h2 (i32.xor (local.get $h2) (i32.shr_u (local.get $h2) (i32.const 13))))
                    (local.set $digested (i32.add (local.get $digested) (i32.const 1)))
                    (local.set $p (i32.add (local.get $i) (i32.const 1)))
                    (if (local.get $lineKind)
                      (then
                        ;; An unordered rule: the rest of the line gets lanes of its own.
                        (local.set $sh1 (local.get $h1))
                        (local.set $sh2 (local.get $h2))
                        (local.set $h1 (i32.const 0x811c9dc5))
                        (local.set $h2 (i32.const 0x1f2be47c))))
                    (br $hashToNewline)))

                ;; `:CHAIN POLICY [packets:bytes]`: the counters end the header (trailing bytes <= 32 aside).
                (if (i32.eq (local.get $c) (i32.const 58))
                  (then
                    (local.set $nl (local.get $s))
                    (loop $word
                      (local.set $x (i64.xor (i64.load (local.get $nl)) (i64.const 0x0a0a0a0a0a0a0a0a)))
                      (local.set $t
                        (i64.and
                          (i64.and (i64.sub (local.get $x) (i64.const 0x0101010101010101)) (i64.xor (local.get $x) (i64.const -1)))
                          (i64.const 0x8080808080808080)))
                      (if (i64.eqz (local.get $t))
                        (then
                          (local.set $nl (i32.add (local.get $nl) (i32.const 8)))
                          (br $word))))
                    (local.set $nl (i32.add (local.get $nl) (i32.wrap_i64 (i64.shr_u (i64.ctz (local.get $t)) (i64.const 3)))))
                    (if (i32.gt_u (i32.sub (local.get $nl) (local.get $s)) (global.get $maxLineBytes))
                      (then
                        (local.set $error (i32.const 2))
                        (br $error)))
                    (local.set $last (i32.sub (local.get $nl) (i32.const 1)))
                    (block $trimmed
                      (loop $trim
                        (br_if $trimmed (i32.le_u (local.get $last) (local.get $s)))
                        (br_if $trimmed (i32.gt_u (i32.load8_u (local.get $last)) (i32.const 32)))
                        (local.set $last (i32.sub (local.get $last) (i32.const 1)))
                        (br $trim)))
                    ;; The last `[` before the `]` at $last, when it is after the line's first byte.
                    (local.set $open (local.get $s))
                    (if (i32.eq (i32.load8_u (local.get $last)) (i32.const 93))
                      (then
                        (local.set $i (local.get $last))
                        (block $found
                          (loop $back
                            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                            (br_if $found (i32.le_u (local.get $i) (local.get $s)))
                            (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 91))
                              (then
                                (local.set $open (local.get $i))
                                (br $found)))
                            (br $back)))))
                    ;; Hashed segments: [$s, $open), the counters, then whatever follows the `]` at $last
                    ;; (a `]` before it is skipped with the counters); without counters, [$s, $nl).
                    (local.set $p (local.get $s))
                    (local.set $counters (i32.gt_u (local.get $open) (local.get $s)))
                    (local.set $e (select (local.get $open) (local.get $nl) (local.get $counters)))
                    (loop $segment
                      (local.set $digested (i32.add (local.get $digested) (i32.sub (local.get $e) (local.get $p))))
                      (block $blocks
                        (loop $block
                          (br_if $blocks (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $e)))
                          (local.set $lo (i32.load (local.get $p)))
                          (local.set $h1
                            (i32.add
                              (i32.mul
                                (i32.rotl
                                  (i32.xor (local.get $h1)
                                    (i32.mul (i32.rotl (i32.mul (local.get $lo) (i32.const 0xcc9e2d51)) (i32.const 15)) (i32.const 0x1b873593)))
                                  (i32.const 13))
                                (i32.const 5))
                              (i32.const 0xe6546b64)))
                          (local.set $h2 (i32.mul (i32.xor (local.get $h2) (local.get $lo)) (i32.const 0x5bd1e995)))
                          (local.set $h2 (i32.xor (local.get $h2) (i32.shr_u (local.get $h2) (i32.const 15))))
                          (local.set $p (i32.add (local.get $p) (i32.const 4)))
                          (br $block)))
                      (block $tailDone
                        (loop $tail
                          (br_if $tailDone (i32.ge_u (local.get $p) (local.get $e)))
                          (local.set $c (i32.load8_u (local.get $p)))
                          (local.set $h1 (i32.mul (i32.xor (local.get $h1) (local.get $c)) (i32.const 0x01000193)))
                          (local.set $h2 (i32.mul (i32.xor (local.get $h2) (local.get $c)) (i32.const 0x5bd1e995)))
                          (local.set $h2 (i32.xor (local.get $h2) (i32.shr_u (local.get $h2) (i32.const 13))))
                          (local.set $p (i32.add (local.get $p) (i32.const 1)))
                          (br $tail)))
                      (if (local.get $counters)
                        (then
                          ;; [digits:digits] at $open; the digit runs stop at the `]` at $last at the latest.
                          (local.set $counters (i32.const 0))
                          (local.set $j (i32.add (local.get $open) (i32.const 1)))
                          (local.set $i (local.get $j))
                          (block $end
                            (loop $digit
                              (br_if $end (i32.ge_u (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)) (i32.const 10)))
                              (local.set $i (i32.add (local.get $i) (i32.const 1)))
                              (br $digit)))
                          (local.set $n (i32.sub (local.get $i) (local.get $j)))
                          (local.set $error (i32.const 1))
                          (br_if $error
                            (i32.or
                              (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 20)))
                              (i32.ne (i32.load8_u (local.get $i)) (i32.const 58))))
                          (local.set $j (i32.add (local.get $i) (i32.const 1)))
                          (local.set $i (local.get $j))
                          (block $end
                            (loop $digit
                              (br_if $end (i32.ge_u (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)) (i32.const 10)))
                              (local.set $i (i32.add (local.get $i) (i32.const 1)))
                              (br $digit)))
                          (local.set $n (i32.sub (local.get $i) (local.get $j)))
                          (br_if $error
                            (i32.or
                              (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 20)))
                              (i32.ne (i32.load8_u (local.get $i)) (i32.const 93))))
                          (local.set $error (i32.const 0))
                          ;; mix(0xff)
                          (local.set $h1 (i32.mul (i32.xor (local.get $h1) (i32.const 255)) (i32.const 0x01000193)))
                          (local.set $h2 (i32.mul (i32.xor (local.get $h2) (i32.const 255)) (i32.const 0x5bd1e995)))
                          (local.set $h2 (i32.xor (local.get $h2) (i32.shr_u (local.get $h2) (i32.const 13))))
                          (local.set $digested (i32.add (local.get $digested) (i32.const 1)))
                          (local.set $p (i32.add (local.get $last) (i32.const 1)))
                          (local.set $e (local.get $nl))
                          (br $segment))))
                    (br $measure)))

                ;; A comment other than `# Warning:` (LE words "# Warnin", "g:"): only its line counts.
                (if (i32.eq (local.get $c) (i32.const 35))
                  (then
                    (if (i32.eqz
                          (i32.and
                            (i64.eq (i64.load (local.get $s)) (i64.const 0x6e696e7261572023))
                            (i32.eq (i32.load16_u (i32.add (local.get $s) (i32.const 8))) (i32.const 0x3a67))))
                      (then
                        (local.set $nl (call $newline (local.get $s)))
                        (br $measure)))))

                ;; Anything else is digested whole (an unordered rule with lanes of its own).
                (local.set $p (local.get $s))
                (if (local.get $lineKind)
                  (then
                    (local.set $sh1 (local.get $h1))
                    (local.set $sh2 (local.get $h2))
                    (local.set $h1 (i32.const 0x811c9dc5))
                    (local.set $h2 (i32.const 0x1f2be47c)))))

              ;; Digest [$p, the next \n) while looking for the \n: eight bytes a step, two blocks.
              (local.set $digested (i32.sub (local.get $digested) (local.get $p)))
              ;; Lane 2 is carried as $y, its value before the xorshift (h2 = y ^ y >>> 15; inverted here):
              ;; the next word can be xored in while the shift runs, a cycle less a block than h2 itself.
              (local.set $y
                (i32.xor (i32.xor (local.get $h2) (i32.shr_u (local.get $h2) (i32.const 15))) (i32.shr_u (local.get $h2) (i32.const 30))))
              (loop $word
                (local.set $w (i64.load (local.get $p)))
                (local.set $x (i64.xor (local.get $w) (i64.const 0x0a0a0a0a0a0a0a0a)))
                (local.set $t
                  (i64.and
                    (i64.and (i64.sub (local.get $x) (i64.const 0x0101010101010101)) (i64.xor (local.get $x) (i64.const -1)))
                    (i64.const 0x8080808080808080)))
                (if (i64.eqz (local.get $t))
                  (then
                    (local.set $lo (i32.wrap_i64 (local.get $w)))
                    (local.set $h1
                      (i32.add
                        (i32.mul
                          (i32.rotl
                            (i32.xor (local.get $h1)
                              (i32.mul (i32.rotl (i32.mul (local.get $lo) (i32.const 0xcc9e2d51)) (i32.const 15)) (i32.const 0x1b873593)))
                            (i32.const 13))
                          (i32.const 5))
                        (i32.const 0xe6546b64)))
                    (local.set $y (i32.mul (i32.xor (i32.xor (local.get $y) (local.get $lo)) (i32.shr_u (local.get $y) (i32.const 15))) (i32.const 0x5bd1e995)))
                    (local.set $lo (i32.wrap_i64 (i64.shr_u (local.get $w) (i64.const 32))))
                    (local.set $h1
                      (i32.add
                        (i32.mul
                          (i32.rotl
                            (i32.xor (local.get $h1)
                              (i32.mul (i32.rotl (i32.mul (local.get $lo) (i32.const 0xcc9e2d51)) (i32.const 15)) (i32.const 0x1b873593)))
                            (i32.const 13))
                          (i32.const 5))
                        (i32.const 0xe6546b64)))
                    (local.set $y (i32.mul (i32.xor (i32.xor (local.get $y) (local.get $lo)) (i32.shr_u (local.get $y) (i32.const 15))) (i32.const 0x5bd1e995)))
                    (local.set $p (i32.add (local.get $p) (i32.const 8)))
                    (br $word))))
              ;; The \n is byte $k of the word: at most one more whole block, then up to three tail bytes.
              (local.set $k (i32.wrap_i64 (i64.shr_u (i64.ctz (local.get $t)) (i64.const 3))))
              (local.set $nl (i32.add (local.get $p) (local.get $k)))
              (local.set $digested (i32.add (local.get $digested) (local.get $nl)))
              (local.set $lo (i32.wrap_i64 (local.get $w)))
              (if (i32.ge_u (local.get $k) (i32.const 4))
                (then
                  (local.set $h1
                    (i32.add
                      (i32.mul
                        (i32.rotl
                          (i32.xor (local.get $h1)
                            (i32.mul (i32.rotl (i32.mul (local.get $lo) (i32.const 0xcc9e2d51)) (i32.const 15)) (i32.const 0x1b873593)))
                          (i32.const 13))
                        (i32.const 5))
                      (i32.const 0xe6546b64)))
                  (local.set $y (i32.mul (i32.xor (i32.xor (local.get $y) (local.get $lo)) (i32.shr_u (local.get $y) (i32.const 15))) (i32.const 0x5bd1e995)))
                  (local.set $lo (i32.wrap_i64 (i64.shr_u (local.get $w) (i64.const 32))))
                  (local.set $k (i32.sub (local.get $k) (i32.const 4)))))
              (local.set $h2 (i32.xor (local.get $y) (i32.shr_u (local.get $y) (i32.const 15))))
              (block $tailDone
                (loop $tail
                  (br_if $tailDone (i32.eqz (local.get $k)))
                  (local.set $c (i32.and (local.get $lo) (i32.const 255)))
                  (local.set $h1 (i32.mul (i32.xor (local.get $h1) (local.get $c)) (i32.const 0x01000193)))
                  (local.set $h2 (i32.mul (i32.xor (local.get $h2) (local.get $c)) (i32.const 0x5bd1e995)))
                  (local.set $h2 (i32.xor (local.get $h2) (i32.shr_u (local.get $h2) (i32.const 13))))
                  (local.set $lo (i32.shr_u (local.get $lo) (i32.const 8)))
                  (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                  (br $tail))))

            ;; $measure: the line is [$s, $nl). Too long: nothing of it counts (the length is checked first).
            (if (i32.gt_u (i32.sub (local.get $nl) (local.get $s)) (global.get $maxLineBytes))
              (then
                (local.set $error (i32.const 2))
                (br $error)))
            ;; mix(\n)
            (local.set $h1 (i32.mul (i32.xor (local.get $h1) (i32.const 10)) (i32.const 0x01000193)))
            (local.set $h2 (i32.mul (i32.xor (local.get $h2) (i32.const 10)) (i32.const 0x5bd1e995)))
            (local.set $h2 (i32.xor (local.get $h2) (i32.shr_u (local.get $h2) (i32.const 13))))
            (local.set $digested (i32.add (local.get $digested) (i32.const 1)))
            (if (local.get $lineKind)
              (then
                ;; An unordered rule: its hash into the sums, the digest's lanes back, then a mix of its kind.
                (local.set $sum1 (i32.add (local.get $sum1) (call $fmix (local.get $h1))))
                (local.set $sum2 (i32.add (local.get $sum2) (call $fmix (local.get $h2))))
                (local.set $h1 (i32.mul (i32.xor (local.get $sh1) (local.get $lineKind)) (i32.const 0x01000193)))
                (local.set $h2 (i32.mul (i32.xor (local.get $sh2) (local.get $lineKind)) (i32.const 0x5bd1e995)))
                (local.set $h2 (i32.xor (local.get $h2) (i32.shr_u (local.get $h2) (i32.const 13))))
                (local.set $digested (i32.add (local.get $digested) (i32.const 1)))))
            (f64.store (local.get $pp) (local.get $packets))
            (local.set $pp (i32.add (local.get $pp) (i32.const 8)))
            (local.set $pos (i32.add (local.get $nl) (i32.const 1)))
            (br $next))

          ;; $malformed: a rule's counters broke at $i; a line too long is reported as that first.
          (local.set $nl (call $newline (local.get $i)))
          (local.set $error
            (select (i32.const 2) (i32.const 1)
              (i32.gt_u (i32.sub (local.get $nl) (local.get $s)) (global.get $maxLineBytes)))))

        ;; $error: the line counts, without a counter; the scan stops here.
        (f64.store (local.get $pp) (f64.const 0))
        (local.set $pp (i32.add (local.get $pp) (i32.const 8)))))
    (i32.store (i32.const 0) (local.get $h1))
    (i32.store (i32.const 4) (local.get $h2))
    (i32.store (i32.const 8) (local.get $line))
    (i32.store (i32.const 12) (local.get $error))
    (i32.store (i32.const 16) (local.get $digested))
    (i32.store (i32.const 20) (local.get $fixups))
    (i32.store (i32.const 24) (local.get $runKind))
    (i32.store (i32.const 28) (local.get $sum1))
    (i32.store (i32.const 32) (local.get $sum2))
    (local.get $pos)))
