package org.llmkit.api.model;

import static org.llmkit.api.model.HostArrays.accumulateGradient;
import static org.llmkit.api.model.HostArrays.accumulateProduct;
import static org.llmkit.api.model.HostArrays.floats;
import static org.llmkit.api.model.HostArrays.from;
import static org.llmkit.api.model.HostArrays.pt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * LoRA branches of a taped linear layer's weights that read one input, as they ran in the forward: the layer's
 * input itself (all the layer's branches, without dropout), or one branch's dropped-out copy of it. Their
 * {@code A} matrices are stacked into one {@code [Σ r_i, in]}, so that the rank-r products that read or write
 * input-sized arrays ({@code x A^T}, {@code g^T x}, {@code g A}) run once for all of them rather than once per
 * branch; each {@code B} side runs per branch, on that weight's columns of the output. Each product is the
 * per-branch one with the other branches' columns beside it: the same results up to float32 summation order.
 * Each product runs as contiguous parts side by side, one single-threaded OpenBLAS call per core
 * ({@link GemmWorkers#split}): these products stream activation-sized arrays through a few columns, and OpenBLAS
 * ran them slower split over its threads.
 *
 * @param adapters the branches' adapters
 * @param cols the first output column of each branch's weight
 * @param offsets the first row of each branch's {@code A} in {@code aStack} (and column in {@code low})
 * @param ranks {@code Σ r_i}
 * @param xs the branches' input {@code [rows, in]}
 * @param dropped for one branch's dropped-out input, the zeroed positions (the others were multiplied by
 *     {@code kept}); null when the input is the layer's own
 * @param kept the dropout's scale of the kept elements
 * @param aStack the stacked {@code A} matrices (the adapter's own {@code A} when there is one branch)
 * @param low {@code xs aStack^T [rows, Σ r_i]}
 */
record LoraBranches(BlasTape.Adapter[] adapters, int[] cols, int[] offsets, int ranks, int rows, int in,
        FloatBuffer xs, BitSet dropped, float kept, NDArray aStack, NDArray low) {
    /**
     * Runs the branches and adds them to their columns of the layer's output.
     *
     * @param adapters each weight's adapter, or null where it has none or its branch is run apart (at least
     *     one is not null; exactly one when {@code dropped} is not null)
     * @param widths each weight's output rows
     * @param xs the branches' input {@code [rows, in]}
     * @param dropped see the record; null for none
     * @param kept see the record
     * @param ys the layer's output {@code [rows, out]}, its base product already in place
     */
    static LoraBranches forward(NDManager manager, BlasTape.Adapter[] adapters, int[] widths, FloatBuffer xs,
            int rows, int in, BitSet dropped, float kept, FloatBuffer ys, int out) {
        List<BlasTape.Adapter> present = new ArrayList<>();
        List<Integer> colList = new ArrayList<>();
        int col = 0;
        for (int i = 0; i < adapters.length; i++) {
            if (adapters[i] != null) {
                present.add(adapters[i]);
                colList.add(col);
            }
            col += widths[i];
        }
        BlasTape.Adapter[] used = present.toArray(new BlasTape.Adapter[0]);
        if (dropped != null && used.length != 1) {
            throw new IllegalArgumentException("a dropped-out input belongs to one branch, found " + used.length);
        }
        int[] cols = colList.stream().mapToInt(Integer::intValue).toArray();
        int[] offsets = new int[used.length];
        int ranks = 0;
        for (int i = 0; i < used.length; i++) {
            offsets[i] = ranks;
            ranks += (int) used[i].a().getShape().get(0);
        }
        NDArray aStack = used.length == 1 ? used[0].a() : manager.create(new Shape(ranks, in), DataType.FLOAT32);
        if (used.length > 1) {
            FloatBuffer stack = floats(aStack);
            for (int i = 0; i < used.length; i++) {
                stack.position(offsets[i] * in);
                stack.put(floats(used[i].a()));
            }
        }
        LoraBranches branches = new LoraBranches(used, cols, offsets, ranks, rows, in, xs, dropped, kept, aStack,
                manager.create(new Shape(rows, ranks), DataType.FLOAT32));
        branches.addTo(ys, out);
        return branches;
    }

    // low = xs aStack^T, then y_i += scale_i low_i B_i^T, by rows
    private void addTo(FloatBuffer ys, int out) {
        FloatBuffer lows = floats(low);
        FloatBuffer as = floats(aStack);
        int n = adapters.length;
        FloatBuffer[] bs = bValues();
        int[] outs = widths();
        GemmWorkers.split(rows, (from, to) -> {
            OpenBlas.gemm(false, true, to - from, ranks, in, 1f, from(xs, from * in), in, as, in, 0f,
                    from(lows, from * ranks), ranks);
            for (int i = 0; i < n; i++) {
                OpenBlas.gemm(false, true, to - from, outs[i], rank(i), adapters[i].scale(),
                        from(lows, from * ranks + offsets[i]), ranks, bs[i], rank(i), 1f,
                        from(ys, from * out + cols[i]), out);
            }
        });
    }

    /**
     * With {@code g_i = alpha · scale_i · dY_i B_i} side by side in {@code g [rows, Σ r_i]}:
     * {@code dB_i += alpha · scale_i · dY_i^T low_i}, {@code [dA_1; dA_2; ...] += g^T xs},
     * {@code dX += (g aStack) ∘ mask}. Each product runs as parts side by side ({@link GemmWorkers#split}):
     * by rows where each row of the result reads its own rows, by the result's rows or columns where the
     * product sums over rows.
     *
     * @param manager where temporaries may be created
     * @param dys the layer's output gradient {@code [rows, out]}, to be multiplied by {@code alpha}
     * @param alpha the scale of {@code dys}
     * @param out the layer's output width
     * @param dxs the layer's input gradient {@code [rows, in]}, accumulated into; null when no one wants it
     */
    void backward(NDManager manager, FloatBuffer dys, float alpha, int out, FloatBuffer dxs) {
        NDArray g = manager.create(new Shape(rows, ranks), DataType.FLOAT32);
        FloatBuffer gs = floats(g);
        FloatBuffer lows = floats(low);
        int n = adapters.length;
        FloatBuffer[] bs = bValues();
        int[] outs = widths();
        float[] scales = new float[n];
        for (int i = 0; i < n; i++) {
            scales[i] = alpha * adapters[i].scale();
        }
        GemmWorkers.split(rows, (from, to) -> {
            for (int i = 0; i < n; i++) {
                OpenBlas.gemm(false, false, to - from, rank(i), outs[i], scales[i],
                        from(dys, from * out + cols[i]), out, bs[i], rank(i), 0f,
                        from(gs, from * ranks + offsets[i]), ranks);
            }
        });
        boolean anyA = false;
        for (int i = 0; i < n; i++) {
            NDArray b = adapters[i].b();
            if (JniUtils.requiresGrad(pt(b))) {
                int rank = rank(i);
                int width = outs[i];
                float scale = scales[i];
                FloatBuffer dy = from(dys, cols[i]);
                FloatBuffer lowI = from(lows, offsets[i]);
                // dB_i's rows [from, to) read dY_i's columns [from, to)
                accumulateProduct(manager, b, (c, beta) -> GemmWorkers.split(width, (from, to) ->
                        OpenBlas.gemm(true, false, to - from, rank, rows, scale, from(dy, from), out, lowI, ranks,
                                beta, from(c, from * rank), rank)));
            }
            anyA |= JniUtils.requiresGrad(pt(adapters[i].a()));
        }
        if (anyA && n == 1) {
            accumulateProduct(manager, adapters[0].a(), (c, beta) -> aGradient(gs, c, beta));
        } else if (anyA) {
            NDArray da = manager.create(new Shape(ranks, in), DataType.FLOAT32);
            aGradient(gs, floats(da), 0f);
            for (int i = 0; i < n; i++) {
                NDArray a = adapters[i].a();
                if (JniUtils.requiresGrad(pt(a))) {
                    try (NDArray rowsOfA = da.get(offsets[i] + ":" + (offsets[i] + rank(i)))) {
                        accumulateGradient(a, rowsOfA);
                    }
                }
            }
            da.close();
        }
        if (dxs != null) {
            inputGradient(manager, gs, dxs);
        }
        g.close();
    }

    private int rank(int i) {
        return (i + 1 < offsets.length ? offsets[i + 1] : ranks) - offsets[i];
    }

    // each B's values and output rows, read here so that parts on helper threads make no libtorch call
    private FloatBuffer[] bValues() {
        FloatBuffer[] bs = new FloatBuffer[adapters.length];
        for (int i = 0; i < bs.length; i++) {
            bs[i] = floats(adapters[i].b());
        }
        return bs;
    }

    private int[] widths() {
        int[] widths = new int[adapters.length];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = (int) adapters[i].b().getShape().get(0);
        }
        return widths;
    }

    // [dA_1; dA_2; ...] = g^T xs + beta · c, its columns [from, to) reading xs's columns [from, to)
    private void aGradient(FloatBuffer gs, FloatBuffer c, float beta) {
        GemmWorkers.split(in, (from, to) -> OpenBlas.gemm(true, false, ranks, to - from, rows, 1f, gs, ranks,
                from(xs, from), in, beta, from(c, from), in));
    }

    // dX += (g aStack) ∘ mask, by rows
    private void inputGradient(NDManager manager, FloatBuffer gs, FloatBuffer dxs) {
        FloatBuffer as = floats(aStack);
        if (dropped == null) {
            GemmWorkers.split(rows, (from, to) -> OpenBlas.gemm(false, false, to - from, in, ranks, 1f,
                    from(gs, from * ranks), ranks, as, in, 1f, from(dxs, from * in), in));
            return;
        }
        NDArray dInput = manager.create(new Shape(rows, in), DataType.FLOAT32);
        FloatBuffer di = floats(dInput);
        GemmWorkers.split(rows, (from, to) -> OpenBlas.gemm(false, false, to - from, in, ranks, 1f,
                from(gs, from * ranks), ranks, as, in, 0f, from(di, from * in), in));
        for (int i = 0, size = rows * in; i < size; i++) {
            if (!dropped.get(i)) {
                dxs.put(i, dxs.get(i) + di.get(i) * kept);
            }
        }
        dInput.close();
    }
}
