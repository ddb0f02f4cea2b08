package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TrainingKernelTest {

    @Test
    void autoKeepsOpenBlasWhenLibtorchsGemmsAreOnlyALittleFaster() {
        // m20 here: the two timings within 10%, yet the tape trained ~1.5x as fast
        assertThat(TrainingKernel.openBlasWins(9_000, 8_200)).isTrue();
        assertThat(TrainingKernel.openBlasWins(8_000, 9_000)).isTrue();
        assertThat(TrainingKernel.openBlasWins(10_000, 8_000)).isTrue();
    }

    @Test
    void autoTakesLibtorchWhenItsGemmsNeedUnderFourFifthsOfOpenBlassTime() {
        assertThat(TrainingKernel.openBlasWins(10_000, 7_999)).isFalse();
        assertThat(TrainingKernel.openBlasWins(43_000, 30_600)).isFalse();
    }
}
