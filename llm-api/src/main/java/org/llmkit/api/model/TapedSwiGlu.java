package org.llmkit.api.model;

import static org.llmkit.api.model.HostArrays.floats;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Activation;
import java.nio.FloatBuffer;
import org.llmkit.api.tensor.TorchOps;

/**
 * The gated MLP's activation on the tape, {@code h = silu(g) · u} from the fused gate/up layer's leaf
 * {@code y = [g | u]}: libtorch's fused op outside autograd forward, and a hand backward that writes
 * {@code dg = dh · u · σ(g) · (1 + g (1 - σ(g)))} and {@code du = dh · g σ(g)} over {@code y}'s own memory (its
 * values are not read again) and hands that to the gate/up layer's step ({@link BlasTape#handGradient}). The down
 * projection hands {@code dh} here in turn ({@link BlasTape.Producer}). Autograd's path ran silu's and the
 * product's backward as four libtorch passes and then concatenated {@code dg} and {@code du} into a new
 * {@code [rows, 2F]} array, through {@code h}'s {@code .grad}: a copy of its own.
 */
final class TapedSwiGlu extends HandedOutput {
    private final BlasTape tape;
    private final NDArray y;
    private final int width;

    private TapedSwiGlu(BlasTape tape, NDArray y, NDArray h, int width) {
        super(h);
        this.tape = tape;
        this.y = y;
        this.width = width;
    }

    /**
     * @param tape the tape whose linear layer made {@code y}
     * @param ops the model's TorchScript ops
     * @param y the gate/up leaf {@code [..., 2F]} float32, gate columns first
     * @param width F
     * @return the step; its {@link #output()} is {@code h [..., F]}, a leaf
     */
    static TapedSwiGlu forward(BlasTape tape, TorchOps ops, NDArray y, int width) {
        long last = y.getShape().get(y.getShape().dimension() - 1);
        if (last != 2L * width) {
            throw new IllegalArgumentException("a gate/up output of " + last + " columns is not two halves of "
                    + width);
        }
        NDArray h;
        try (NoGradient off = NoGradient.scope()) {
            h = ops.swiglu(y.get(gate(width)), y.get(up(width)));
        }
        h.setRequiresGradient(true);
        return new TapedSwiGlu(tape, y, h, width);
    }

    @Override
    public void backward(NDManager manager) {
        NDArray dh = outputGradient();
        if (dh == null) {
            return;
        }
        NDArray sigmoid;
        try (NoGradient off = NoGradient.scope()) {
            sigmoid = Activation.sigmoid(y.get(gate(width)));
        }
        FloatBuffer ys = floats(y);
        FloatBuffer ss = floats(sigmoid);
        FloatBuffer dhs = floats(dh);
        int f = width;
        GemmWorkers.split((int) (output().size() / f), (from, to) -> {
            float[] g = new float[f];
            float[] u = new float[f];
            float[] s = new float[f];
            float[] d = new float[f];
            for (int r = from; r < to; r++) {
                ys.get(r * 2 * f, g);
                ys.get(r * 2 * f + f, u);
                ss.get(r * f, s);
                dhs.get(r * f, d);
                // in place, one array per operand, so that the JIT vectorizes the loop
                for (int c = 0; c < f; c++) {
                    float ds = d[c] * s[c];
                    float gc = g[c];
                    g[c] = ds * u[c] * (1f + gc * (1f - s[c]));
                    u[c] = ds * gc;
                }
                ys.put(r * 2 * f, g);
                ys.put(r * 2 * f + f, u);
            }
        });
        sigmoid.close();
        dh.close();
        tape.handGradient(y, y);
    }

    private static NDIndex gate(int width) {
        return new NDIndex("..., :{}", width);
    }

    private static NDIndex up(int width) {
        return new NDIndex("..., {}:", width);
    }
}
