package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class BootstrapTest {
    private static final int[] GOLD = {1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0};
    private static final int[] PRED = {1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0};

    @Test
    void sameSeedGivesSameIntervalAroundTheEstimate() {
        ConfidenceInterval a = Bootstrap.of(GOLD, PRED, Metrics::f1, 1000, 0.95, 7);
        ConfidenceInterval b = Bootstrap.of(GOLD, PRED, Metrics::f1, 1000, 0.95, 7);
        assertThat(a).isEqualTo(b);
        assertThat(a.estimate()).isCloseTo(Metrics.f1(GOLD, PRED), within(1e-15));
        assertThat(a.lower()).isLessThan(a.estimate());
        assertThat(a.upper()).isGreaterThan(a.estimate());
        assertThat(a.upper()).isLessThanOrEqualTo(1.0);
    }

    @Test
    void narrowerLevelGivesNarrowerInterval() {
        ConfidenceInterval wide = Bootstrap.of(GOLD, PRED, Metrics::accuracy, 1000, 0.95, 1);
        ConfidenceInterval narrow = Bootstrap.of(GOLD, PRED, Metrics::accuracy, 1000, 0.5, 1);
        assertThat(narrow.upper() - narrow.lower()).isLessThan(wide.upper() - wide.lower());
    }

    @Test
    void perfectPredictionsGiveDegenerateInterval() {
        ConfidenceInterval ci = Bootstrap.of(GOLD, GOLD, Metrics::accuracy);
        assertThat(ci.lower()).isEqualTo(1.0);
        assertThat(ci.upper()).isEqualTo(1.0);
        assertThat(ci.resamples()).isEqualTo(Bootstrap.DEFAULT_RESAMPLES);
    }

    @Test
    void quantileInterpolatesLinearlyLikeNumpy() {
        double[] sorted = {1, 2, 3, 4};
        assertThat(Bootstrap.quantile(sorted, 0.5)).isEqualTo(2.5);
        assertThat(Bootstrap.quantile(sorted, 0.25)).isEqualTo(1.75);
        assertThat(Bootstrap.quantile(sorted, 1.0)).isEqualTo(4);
    }

    @Test
    void badSettingsNameTheOptionAndRange() {
        assertThatThrownBy(() -> Bootstrap.of(GOLD, PRED, Metrics::f1, 0, 0.95, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("resamples must be at least 1");
        assertThatThrownBy(() -> Bootstrap.of(GOLD, PRED, Metrics::f1, 10, 1.0, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("level must be in (0, 1)");
    }
}
