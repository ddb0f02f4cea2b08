package org.llmkit.api.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The host log-probability that scoring and the training loss's underflow rows use. */
class LogSoftmaxTest {
    @Test
    void givesTheLogOfEachWordsShareOfTheExponentials() {
        float[] logits = {0f, (float) Math.log(3)};   // shares 1/4 and 3/4
        assertThat(LogSoftmax.of(logits, 0)).isCloseTo(Math.log(0.25), within(1e-7));
        assertThat(LogSoftmax.of(logits, 1)).isCloseTo(Math.log(0.75), within(1e-7));
    }

    @Test
    void staysFiniteWhereFloatExponentialsWouldOverflowOrUnderflow() {
        float[] logits = {1000f, 0f, -1000f};
        assertThat(LogSoftmax.of(logits, 0)).isCloseTo(0, within(1e-12));
        assertThat(LogSoftmax.of(logits, 1)).isCloseTo(-1000, within(1e-9));
        assertThat(LogSoftmax.of(logits, 2)).isCloseTo(-2000, within(1e-9));
    }
}
