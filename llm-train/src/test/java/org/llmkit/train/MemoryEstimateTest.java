package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.llmkit.api.ModelConfig;
import org.llmkit.api.RopeScaling;

/** DeepSpeed's model-state formulas on a Llama-3.1-8B-shaped config, stages 0-3, 1 and 8 devices, ± offload. */
class MemoryEstimateTest {
    static final ModelConfig LLAMA_8B = ModelConfig.builder("llama").vocabSize(128256).hiddenSize(4096)
            .intermediateSize(14336).numLayers(32).numHeads(32).numKvHeads(8).maxPositionEmbeddings(131072)
            .ropeTheta(500000).ropeScaling(RopeScaling.llama3(8, 1, 4, 8192)).build();

    private static long ceil(long a, long b) {
        return (a + b - 1) / b;
    }

    @Test
    void llama8bModelStatesFollowTheZeroFormulas() {
        long psi = LLAMA_8B.parameterCount();
        assertThat(psi).isEqualTo(8_030_261_248L);
        for (int stage = 0; stage <= 3; stage++) {
            for (int n : new int[] {1, 8}) {
                for (boolean offload : new boolean[] {false, true}) {
                    MemoryEstimate e = MemoryEstimate.of(LLAMA_8B).fp16().zeroStage(stage).devices(n);
                    MemoryEstimate.Result r = (offload ? e.offloadOptimizer() : e).estimate();
                    String what = "stage " + stage + ", " + n + " devices, offload " + offload;
                    long params = stage >= 3 ? ceil(2 * psi, n) : 2 * psi;
                    long grads = stage >= 2 ? ceil(2 * psi, n) : 2 * psi;
                    long optimizer = stage >= 1 ? ceil(12 * psi, n) : 12 * psi;
                    assertThat(r.parameterBytesPerDevice()).as(what).isEqualTo(params);
                    assertThat(r.gradientBytesPerDevice()).as(what).isEqualTo(grads);
                    assertThat(r.optimizerBytesPerDevice()).as(what).isEqualTo(offload ? 0 : optimizer);
                    assertThat(r.hostBytes()).as(what).isEqualTo(offload ? optimizer * n : 0);
                    // the paper's totals: 16Ψ, 4Ψ + 12Ψ/N, 2Ψ + 14Ψ/N, 16Ψ/N (rounding aside)
                    double total = switch (stage) {
                        case 0 -> 16.0 * psi;
                        case 1 -> 4.0 * psi + 12.0 * psi / n;
                        case 2 -> 2.0 * psi + 14.0 * psi / n;
                        default -> 16.0 * psi / n;
                    };
                    double device = offload ? total - (stage >= 1 ? 12.0 * psi / n : 12.0 * psi) : total;
                    assertThat((double) r.modelStateBytesPerDevice()).as(what).isCloseTo(device,
                            org.assertj.core.api.Assertions.within(4.0));
                    if (n == 8 && offload == (stage == 2)) {
                        System.out.println(r.toTable());
                    }
                }
            }
        }
        // the headline figure: 8B in mixed precision needs ~120 GiB of model states on one device
        assertThat(MemoryEstimate.of(LLAMA_8B).fp16().estimate().deviceBytes() / (double) (1L << 30))
                .isCloseTo(119.7, org.assertj.core.api.Assertions.within(0.1));
    }

    @Test
    void activationsShrinkWithCheckpointingAndGrowWithTheMicroBatch() {
        MemoryEstimate e = MemoryEstimate.of(LLAMA_8B).bf16().zeroStage(3).devices(8);
        long one = e.microBatch(1, 2048).estimate().activationBytesPerDevice();
        long two = e.microBatch(2, 2048).estimate().activationBytesPerDevice();
        long checkpointed = e.microBatch(1, 2048).activationCheckpointing().estimate().activationBytesPerDevice();
        assertThat(two).isEqualTo(2 * one);
        assertThat(checkpointed).isLessThan(one / 3);   // the 128k-vocabulary logits stay: 3.3 vs 14.3 GiB
        assertThat(e.estimate().activationBytesPerDevice()).isZero();
        System.out.println(e.microBatch(1, 2048).activationCheckpointing().offloadOptimizer().estimate().toTable());
    }

    @Test
    void badSettingsAreRefusedWithTheirRange() {
        assertThatThrownBy(() -> MemoryEstimate.of(LLAMA_8B).zeroStage(4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0, 1, 2 or 3").hasMessageContaining("4");
        assertThatThrownBy(() -> MemoryEstimate.of(LLAMA_8B).devices(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(">= 1");
        assertThatThrownBy(() -> MemoryEstimate.of(LLAMA_8B).zeroStage(2).offloadParameters().estimate())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("zeroStage(3)");
        assertThatThrownBy(() -> MemoryEstimate.of(LLAMA_8B).microBatch(0, 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("microBatch");
    }
}
