package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.llmkit.api.model.NoGradient;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** ND4J's fused AdamW (the offload kernel) agrees with the DJL twin, which {@link AdamW}'s torch formula defines. */
class OffloadKernelTest {

    @Test
    void nd4jUpdaterMatchesTheDjlFormulaOverFiveSteps() {
        int n = 10_000;
        SplittableRandom random = new SplittableRandom(7);
        float[] p0 = new float[n];
        for (int i = 0; i < n; i++) {
            p0[i] = (float) random.nextGaussian();
        }
        ShardOptimizer.Hyper hyper = new ShardOptimizer.Hyper(0.9, 0.95, 1e-6, 0.1);
        List<FlatLayout.Range> decay = List.of(new FlatLayout.Range(100, 5000), new FlatLayout.Range(7000, 9000));
        INDArray p = Nd4j.createFromArray(p0.clone());
        INDArray m = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, n);
        INDArray v = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, n);
        try (NDManager mgr = Engine.getEngine("PyTorch").newBaseManager(Device.cpu()); NoGradient off = NoGradient.scope()) {
            NDArray dp = TorchArrays.owned(mgr, p0.clone(), new Shape(n));
            NDArray dm = mgr.zeros(new Shape(n));
            NDArray dv = mgr.zeros(new Shape(n));
            for (int t = 1; t <= 5; t++) {
                float[] g = new float[n];
                for (int i = 0; i < n; i++) {
                    g[i] = (float) (random.nextGaussian() * (i % 3 == 0 ? 1e-4 : 1));
                }
                double lr = 1e-2 / t;
                try (NDManager step = mgr.newSubManager()) {
                    NDArray dg = TorchArrays.owned(step, g, new Shape(n));
                    dp.tempAttach(step);
                    dm.tempAttach(step);
                    dv.tempAttach(step);
                    DjlAdamW.update(dp, dm, dv, dg, lr, t, hyper, decay);
                }
                Nd4jAdamW.update(p, m, v, Nd4j.createFromArray(g), lr, t, hyper, decay);
            }
            float[] expected = dp.toFloatArray();
            float[] actual = p.toFloatVector();
            double worst = 0;
            for (int i = 0; i < n; i++) {
                worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
                assertThat((double) actual[i]).as("element %d", i).isCloseTo(expected[i],
                        org.assertj.core.api.Assertions.within(1e-6 + 1e-6 * Math.abs(expected[i])));
            }
            System.out.printf("ND4J vs DJL AdamW, 5 steps: max abs difference %.2e%n", worst);
            assertThat(actual[50]).isNotEqualTo(p0[50]);
        }
    }
}
