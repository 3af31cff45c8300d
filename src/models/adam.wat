;; Adam's update over float32 arrays in one memory, two elements at a time in double precision (see adamKernel.ts).
;; It must give the same bits as FlatOptimizer's JavaScript loop (src/models/optimizer.ts), so it does the same
;; double operations in the same order and rounds to float32 only where that loop stores: do not reorder, fuse or
;; simplify the arithmetic below. scripts/assemble-wasm.mjs assembles this file at build time (npm run build).
(module
  ;; The memory that holds the arrays. This file is assembled twice: as written (dist/models/adam.wasm), and with
  ;; this memory declared `(memory 0 65536 shared)` (dist/models/adam-shared.wasm), because a module that imports a
  ;; shared memory accepts only a shared one and the other way round. No size is asked for, so any memory fits.
  (import "env" "memory" (memory 0))

  ;; For each element i in [0, bytes / 4), with the new m and v used unrounded in the last line:
  ;;   g = wa·a + wb·b;  m = β1·m + c1·g;  v = β2·v + (c2·g)·g;  p = p − (rate·m) / (√v·scale + ε)
  ;; $p .. $v are byte offsets of the arrays; $bytes is a multiple of 8 (AdamKernel.step leaves an odd element to
  ;; the JavaScript loop).
  (func (export "adam")
    (param $p i32) (param $a i32) (param $b i32) (param $m i32) (param $v i32) (param $bytes i32)
    (param $wa f64) (param $wb f64) (param $beta1 f64) (param $c1 f64) (param $beta2 f64) (param $c2 f64)
    (param $rate f64) (param $scale f64) (param $epsilon f64) (param $decay f64)
    ;; Byte offset of the current pair of elements in every array.
    (local $at i32)
    ;; Each constant in both lanes, made once here rather than in every iteration.
    (local $wa2 v128) (local $wb2 v128) (local $beta1_2 v128) (local $c1_2 v128) (local $beta2_2 v128) (local $c2_2 v128)
    (local $rate2 v128) (local $scale2 v128) (local $epsilon2 v128) (local $decay2 v128)
    ;; The gradient and the new moments of the current pair, in double precision.
    (local $g v128) (local $m_new v128) (local $v_new v128)

    (local.set $wa2 (f64x2.splat (local.get $wa)))
    (local.set $wb2 (f64x2.splat (local.get $wb)))
    (local.set $beta1_2 (f64x2.splat (local.get $beta1)))
    (local.set $c1_2 (f64x2.splat (local.get $c1)))
    (local.set $beta2_2 (f64x2.splat (local.get $beta2)))
    (local.set $c2_2 (f64x2.splat (local.get $c2)))
    (local.set $rate2 (f64x2.splat (local.get $rate)))
    (local.set $scale2 (f64x2.splat (local.get $scale)))
    (local.set $epsilon2 (f64x2.splat (local.get $epsilon)))
    (local.set $decay2 (f64x2.splat (local.get $decay)))

    (block $done
      ;; The loop tests its condition at the end, so an empty range must not enter it.
      (br_if $done (i32.eqz (local.get $bytes)))
      (loop $pairs
        ;; Each load reads two float32 (8 bytes, 4-byte aligned as a Float32Array is) and widens them to f64x2.
        ;; g = wa·a + wb·b
        (local.set $g
          (f64x2.add
            (f64x2.mul (local.get $wa2) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (i32.add (local.get $a) (local.get $at)))))
            (f64x2.mul (local.get $wb2) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (i32.add (local.get $b) (local.get $at)))))))
        ;; m = β1·m + c1·g
        (local.set $m_new
          (f64x2.add
            (f64x2.mul (local.get $beta1_2) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (i32.add (local.get $m) (local.get $at)))))
            (f64x2.mul (local.get $c1_2) (local.get $g))))
        ;; v = β2·v + (c2·g)·g
        (local.set $v_new
          (f64x2.add
            (f64x2.mul (local.get $beta2_2) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (i32.add (local.get $v) (local.get $at)))))
            (f64x2.mul (f64x2.mul (local.get $c2_2) (local.get $g)) (local.get $g))))
        ;; Each store narrows to float32 and writes the low two lanes (8 bytes), as the loop's Float32Array stores.
        (v128.store64_lane align=4 0 (i32.add (local.get $m) (local.get $at)) (f32x4.demote_f64x2_zero (local.get $m_new)))
        (v128.store64_lane align=4 0 (i32.add (local.get $v) (local.get $at)) (f32x4.demote_f64x2_zero (local.get $v_new)))
        ;; p = p·decay − (rate·m) / (√v·scale + ε), with m and v as computed above, not as stored
        (v128.store64_lane align=4 0
          (i32.add (local.get $p) (local.get $at))
          (f32x4.demote_f64x2_zero
            (f64x2.sub
              (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (i32.add (local.get $p) (local.get $at)))) (local.get $decay2))
              (f64x2.div
                (f64x2.mul (local.get $rate2) (local.get $m_new))
                (f64x2.add (f64x2.mul (f64x2.sqrt (local.get $v_new)) (local.get $scale2)) (local.get $epsilon2))))))
        ;; Next pair, while any is left.
        (br_if $pairs (i32.lt_u (local.tee $at (i32.add (local.get $at) (i32.const 8))) (local.get $bytes)))))))
