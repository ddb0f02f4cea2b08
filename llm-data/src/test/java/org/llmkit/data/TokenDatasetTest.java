package org.llmkit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokenDatasetTest {

    private static int[][] sequences(int n) {
        int[][] out = new int[n][];
        for (int i = 0; i < n; i++) {
            out[i] = new int[] {i, i + 1, i + 2};
        }
        return out;
    }

    @Test
    void inMemoryDatasetCopiesItsInputAndKnowsItsShape() {
        int[][] input = sequences(10);
        TokenDataset data = TokenDataset.of(input);
        input[0][0] = 99;
        assertThat(data.get(0)).containsExactly(0, 1, 2);
        assertThat(data.size()).isEqualTo(10);
        assertThat(data.sequenceLength()).hasValue(3);
        assertThat(data.vocabSize()).isEqualTo(12);
        assertThat(data.tokenCount()).isEqualTo(30);
        assertThat(TokenDataset.of(new int[][] {{1}, {1, 2}}).sequenceLength()).isEmpty();
    }

    @Test
    void splitIsADisjointReproducibleCoverOfAllSequences() {
        TokenDataset data = TokenDataset.of(sequences(100));
        TokenDataset.Split split = data.split(0.9, 5);
        assertThat(split.train().size()).isEqualTo(90);
        assertThat(split.validation().size()).isEqualTo(10);
        Set<Integer> seen = new HashSet<>();
        for (long i = 0; i < 90; i++) {
            seen.add(split.train().get(i)[0]);
        }
        for (long i = 0; i < 10; i++) {
            assertThat(seen.add(split.validation().get(i)[0])).isTrue();
        }
        assertThat(seen).hasSize(100);
        assertThat(data.split(0.9, 5).validation().get(0)).containsExactly(split.validation().get(0));
        assertThat(data.slice(10, 12).get(1)).containsExactly(11, 12, 13);
    }

    @Test
    void badInputIsNamed() {
        assertThatThrownBy(() -> TokenDataset.of(new int[][] {{1, -1}}))
                .hasMessageContaining("sequences[0][1] = -1");
        assertThatThrownBy(() -> TokenDataset.of(new int[][] {{1, 5}}, 5))
                .hasMessageContaining("sequences[0][1] = 5 is outside [0, 5)");
        assertThatThrownBy(() -> TokenDataset.of(sequences(3)).split(1.0, 0))
                .hasMessageContaining("trainFraction must be in (0, 1), was 1.0");
    }
}
