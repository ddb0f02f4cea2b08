package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.DataFormatException;

/** HuggingFace Parquet exports, written by the test with parquet-java, read like their JSON Lines twins. */
class ParquetExportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The CB rows of {@link SuperGlueTest}, as {@code Dataset.to_json} and {@code to_parquet} hold them. */
    private static final List<Map<String, Object>> CB_VALIDATION = List.of(
            row("premise", "It rained all day.", "hypothesis", "the ground is wet", "idx", 0, "label", 0L, "checked", true),
            row("premise", "He never left.", "hypothesis", "he left", "idx", 1, "label", 1L, "checked", false),
            row("premise", "She may come.", "hypothesis", "she comes", "idx", 2, "label", 2L, "checked", true),
            row("premise", "The dog barked.", "hypothesis", "a cat meowed", "idx", 3, "label", 2L, "checked", false));
    private static final List<Map<String, Object>> CB_TRAIN = List.of(
            row("premise", "Snow fell.", "hypothesis", "it was cold", "idx", 0, "label", 0L, "checked", true));

    private static Map<String, Object> row(Object... keysAndValues) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            row.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return row;
    }

    private static Path jsonLines(Path file, List<Map<String, Object>> rows) throws IOException {
        Files.createDirectories(file.getParent());
        List<String> lines = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            lines.add(JSON.writeValueAsString(row));
        }
        return Files.write(file, lines);
    }

    private static Path parquet(Path file, List<Map<String, Object>> rows, CompressionCodecName codec, int rowsPerGroup)
            throws IOException {
        Files.createDirectories(file.getParent());
        return ParquetFiles.write(file, ParquetFiles.CB, codec, rowsPerGroup, rows);
    }

    /** JSON equality where 0 (int) equals 0 (long): Parquet's int64 label against JSON's small integer. */
    private static final Comparator<JsonNode> NUMERIC = (a, b) -> a.isNumber() && b.isNumber()
            ? a.decimalValue().compareTo(b.decimalValue()) : a.equals(b) ? 0 : 1;

    @ParameterizedTest
    @EnumSource(value = CompressionCodecName.class, names = {"SNAPPY", "ZSTD", "GZIP", "UNCOMPRESSED"})
    void parquetRowsHoldWhatTheirJsonLinesTwinHolds(CompressionCodecName codec, @TempDir Path tmp) throws Exception {
        Path file = parquet(tmp.resolve("validation-00000-of-00001.parquet"), CB_VALIDATION, codec, 2);
        Path twin = jsonLines(tmp.resolve("validation.jsonl"), CB_VALIDATION);
        try (ParquetFileReader reader = new ParquetFileReader(new LocalInputFile(file), ParquetReadOptions
                .builder(new PlainParquetConfiguration()).withCodecFactory(new ParquetCodecs()).build())) {
            assertThat(reader.getRowGroups()).hasSize(2);
            assertThat(reader.getRowGroups().stream().map(BlockMetaData::getColumns).flatMap(List::stream)
                    .map(c -> c.getCodec()).distinct()).containsExactly(codec);
        }

        List<HfExport.Row> rows = HfExport.read(file);
        List<HfExport.Row> expected = HfExport.read(twin);
        assertThat(rows).hasSize(4);
        for (int i = 0; i < rows.size(); i++) {
            assertThat(rows.get(i).file()).isEqualTo(file);
            assertThat(rows.get(i).line()).isEqualTo(i + 1);
            assertThat(rows.get(i).fields().equals(NUMERIC, expected.get(i).fields()))
                    .as("row %d: %s vs %s", i + 1, rows.get(i).fields(), expected.get(i).fields()).isTrue();
        }
        assertThat(rows.get(1).fields().get("checked").isBoolean()).isTrue();
        assertThat(rows.get(1).fields().get("checked").booleanValue()).isFalse();
        assertThat(rows.get(3).label("label", List.of("entailment", "contradiction", "neutral"))).isEqualTo(2);
    }

    @Test
    void cbFromParquetScoresLikeCbFromJsonLines(@TempDir Path tmp) throws Exception {
        Path jsonDir = tmp.resolve("json/cb");
        jsonLines(jsonDir.resolve("validation.jsonl"), CB_VALIDATION);
        jsonLines(jsonDir.resolve("train.jsonl"), CB_TRAIN);
        Path parquetDir = tmp.resolve("parquet/cb");
        parquet(parquetDir.resolve("validation-00000-of-00001.parquet"), CB_VALIDATION, CompressionCodecName.SNAPPY, 1000);
        parquet(parquetDir.resolve("train-00000-of-00001.parquet"), CB_TRAIN, CompressionCodecName.SNAPPY, 1000);

        MultipleChoiceTask fromJson = SuperGlue.cb(jsonDir).fewShot(1, 3);
        MultipleChoiceTask fromParquet = SuperGlue.cb(parquetDir).fewShot(1, 3);
        assertThat(fromParquet.examples()).isEqualTo(fromJson.examples()).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertThat(fromParquet.prompt(i)).isEqualTo(fromJson.prompt(i));
        }
        assertThat(fromParquet.prompt(0)).startsWith("Snow fell.\nQuestion: it was cold.");
        try (LanguageModel model = Fixtures.llama3()) {
            TaskResult json = fromJson.evaluate(model);
            TaskResult parquet = fromParquet.evaluate(model);
            assertThat(parquet.metrics()).isEqualTo(json.metrics()).containsKeys("acc", "f1");
            assertThat(parquet.examples().stream().map(ExampleScore::predicted))
                    .containsExactlyElementsOf(json.examples().stream().map(ExampleScore::predicted).toList());
        }
    }

    @Test
    void shardedSplitsAreReadInShardOrder(@TempDir Path tmp) throws Exception {
        Path hub = tmp.resolve("cb");
        // written second shard first, so directory order cannot be what orders them
        Path second = parquet(hub.resolve("validation-00001-of-00002.parquet"), CB_VALIDATION.subList(2, 4),
                CompressionCodecName.SNAPPY, 1000);
        Path first = parquet(hub.resolve("validation-00000-of-00002.parquet"), CB_VALIDATION.subList(0, 2),
                CompressionCodecName.ZSTD, 1000);
        assertThat(HfExport.files(hub, "validation")).containsExactly(first, second);
        assertThat(SuperGlue.cb(hub).examples().stream().map(Example::context)).containsExactly(
                "It rained all day.\nQuestion: the ground is wet. True, False, or Neither?",
                "He never left.\nQuestion: he left. True, False, or Neither?",
                "She may come.\nQuestion: she comes. True, False, or Neither?",
                "The dog barked.\nQuestion: a cat meowed. True, False, or Neither?");
        assertThat(HfExport.readSplit(hub, "validation").stream().map(r -> r.file().getFileName() + ":" + r.line()))
                .containsExactly("validation-00000-of-00002.parquet:1", "validation-00000-of-00002.parquet:2",
                        "validation-00001-of-00002.parquet:1", "validation-00001-of-00002.parquet:2");

        Path converted = tmp.resolve("refs-convert/cb");   // the Hub's refs/convert/parquet layout
        parquet(converted.resolve("validation/0001.parquet"), CB_VALIDATION.subList(2, 4), CompressionCodecName.SNAPPY, 1000);
        parquet(converted.resolve("validation/0000.parquet"), CB_VALIDATION.subList(0, 2), CompressionCodecName.SNAPPY, 1000);
        assertThat(SuperGlue.cb(converted).examples()).isEqualTo(SuperGlue.cb(hub).examples());

        Path gap = tmp.resolve("gap");
        parquet(gap.resolve("validation-00001-of-00002.parquet"), CB_VALIDATION, CompressionCodecName.SNAPPY, 1000);
        assertThatThrownBy(() -> SuperGlue.cb(gap)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("shard validation-00000-of-00002.parquet of split 'validation' is missing"
                        + " (found 1 of 2 shards)");
    }

    @Test
    void badParquetRowsNameTheFileAndTheRow(@TempDir Path tmp) throws Exception {
        List<Map<String, Object>> outside = new ArrayList<>(CB_VALIDATION);
        outside.set(2, row("premise", "p", "hypothesis", "h", "idx", 2, "label", 5L));
        Path a = tmp.resolve("a");
        parquet(a.resolve("validation-00000-of-00001.parquet"), outside, CompressionCodecName.SNAPPY, 2);
        assertThatThrownBy(() -> SuperGlue.cb(a)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("validation-00000-of-00001.parquet:3: row 3: label 5 in field 'label' is not"
                        + " one of 0..2 [entailment, contradiction, neutral]")
                .satisfies(e -> assertThat(((DataFormatException) e).line()).isEqualTo(3));

        Path b = tmp.resolve("b");
        parquet(b.resolve("validation-00000-of-00002.parquet"), CB_VALIDATION, CompressionCodecName.SNAPPY, 1000);
        parquet(b.resolve("validation-00001-of-00002.parquet"), List.of(CB_VALIDATION.get(0),
                row("premise", "p", "idx", 9, "label", 0L)), CompressionCodecName.SNAPPY, 1000);
        assertThatThrownBy(() -> SuperGlue.cb(b)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("validation-00001-of-00002.parquet:2: row 2: field 'hypothesis' is not a string"
                        + " but NULL");

        Path c = tmp.resolve("c");
        Files.createDirectories(c);
        ParquetFiles.write(c.resolve("validation.parquet"), MessageTypeParser.parseMessageType(
                "message boolq { optional binary passage (STRING); optional int64 label; }"),
                CompressionCodecName.SNAPPY, 1000, List.of(row("passage", "p", "label", 1L)));
        assertThatThrownBy(() -> SuperGlue.boolq(c)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("validation.parquet:1: row 1: field 'question' is missing");

        Path d = tmp.resolve("d");
        parquet(d.resolve("validation-00000-of-00001.parquet"),
                List.of(row("premise", "p", "hypothesis", "h", "idx", 0, "label", -1L)), CompressionCodecName.SNAPPY, 1000);
        assertThatThrownBy(() -> SuperGlue.cb(d)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining(":1: row 1: label -1").hasMessageContaining("unlabelled test split");

        Path e = tmp.resolve("e");
        parquet(e.resolve("validation-00000-of-00001.parquet"), List.of(), CompressionCodecName.SNAPPY, 1000);
        assertThatThrownBy(() -> SuperGlue.cb(e)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("validation-00000-of-00001.parquet: holds no records; the split is empty");

        Path f = tmp.resolve("f");
        Files.createDirectories(f);
        Files.write(f.resolve("validation-00000-of-00001.parquet"), new byte[] {'P', 'A', 'R', '1', 0, 0, 0, 0});
        assertThatThrownBy(() -> SuperGlue.cb(f)).isInstanceOf(DataFormatException.class)
                .hasMessageContaining("validation-00000-of-00001.parquet: not a readable Parquet file");
    }
}
