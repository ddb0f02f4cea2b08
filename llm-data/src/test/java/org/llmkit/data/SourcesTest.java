package org.llmkit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourcesTest {

    @TempDir
    Path dir;

    private static final String JSONL = """
            {"id": "a", "text": "first text", "source": "web", "score": 0.5}
            {"text": "second text", "tags": ["x", "y"]}

            {"id": 7, "text": "third text"}
            """;

    @Test
    void jsonlKeepsOtherFieldsAsMetadataAndNamesDocumentsWithoutIdByFileAndLine() throws Exception {
        Path file = write("docs.jsonl", JSONL);
        List<Document> docs = Pipeline.from(Dataset.jsonl(file)).collect();
        assertThat(docs).extracting(Document::id).containsExactly("a", "docs.jsonl:2", "7");
        assertThat(docs).extracting(Document::text).containsExactly("first text", "second text", "third text");
        assertThat(docs.get(0).metadata()).containsEntry("source", "web").containsEntry("score", 0.5);
        assertThat(docs.get(1).metadata()).containsEntry("tags", List.of("x", "y"));
    }

    @Test
    void gzipAndZstdFilesAreRecognisedByTheirContent() throws Exception {
        Path gz = dir.resolve("docs.jsonl.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(JSONL.getBytes(StandardCharsets.UTF_8));
        }
        Path zst = dir.resolve("docs.data");
        try (OutputStream out = new ZstdOutputStream(Files.newOutputStream(zst))) {
            out.write(JSONL.getBytes(StandardCharsets.UTF_8));
        }
        assertThat(Pipeline.from(Dataset.jsonl(gz, zst)).collect()).hasSize(6);
    }

    @Test
    void anotherTextFieldCanBeChosen() throws Exception {
        Path file = write("c.jsonl", "{\"content\": \"hello\", \"text\": \"other\"}\n");
        Document doc = Pipeline.from(Dataset.jsonl(file).textField("content")).collect().get(0);
        assertThat(doc.text()).isEqualTo("hello");
        assertThat(doc.metadata()).containsEntry("text", "other");
    }

    @Test
    void malformedLineFailsTheRunWithFileAndLineByDefault() throws Exception {
        Path file = write("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": oops}\n{\"text\": \"ok too\"}\n");
        assertThatThrownBy(() -> Pipeline.from(Dataset.jsonl(file)).collect())
                .isInstanceOf(DataFormatException.class)
                .hasMessageContaining(file + ":2: not a JSON object");
    }

    @Test
    void malformedLinesCanBeSkippedAndAreCountedAsDroppedWithTheirLocation() throws Exception {
        Path file = write("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": oops}\n[1, 2]\n{\"body\": \"x\"}\n{\"text\": \"ok too\"}\n");
        List<Document> kept = new java.util.ArrayList<>();
        PipelineReport report = Pipeline.from(Dataset.jsonl(file)).skipMalformed().run(kept::add);
        assertThat(kept).hasSize(2);
        assertThat(report.documentsIn()).isEqualTo(5);
        assertThat(report.documentsIn()).isEqualTo(report.documentsOut() + report.documentsDropped());
        assertThat(report.count("read", "malformed")).isEqualTo(2);
        assertThat(report.count("read", "missing_field")).isEqualTo(1);
        assertThat(report.problems()).hasSize(3);
        assertThat(report.problems().get(0)).startsWith(file + ":2:");
        assertThat(report.problems().get(2)).startsWith(file + ":4:").contains("no text field \"text\"");
    }

    @Test
    void missingTextFieldIsAClearErrorListingTheFieldsPresent() throws Exception {
        Path file = write("f.jsonl", "{\"body\": \"hello\", \"id\": 1}\n");
        assertThatThrownBy(() -> Pipeline.from(Dataset.jsonl(file)).collect())
                .isInstanceOf(DataFormatException.class)
                .hasMessageContaining(file + ":1: no text field \"text\"")
                .hasMessageContaining("[body, id]")
                .hasMessageContaining("textField(name)");
        Path nonString = write("g.jsonl", "{\"text\": 42}\n");
        assertThatThrownBy(() -> Pipeline.from(Dataset.jsonl(nonString)).collect())
                .hasMessageContaining(nonString + ":1: text field \"text\" is not a string: 42");
    }

    @Test
    void emptyMissingAndUnreadableFilesAreClearErrors() throws Exception {
        Path empty = write("empty.jsonl", "");
        assertThatThrownBy(() -> Pipeline.from(Dataset.jsonl(empty)).collect())
                .isInstanceOf(DataFormatException.class).hasMessageContaining(empty + ": file is empty");
        assertThatThrownBy(() -> Pipeline.from(Dataset.jsonl(empty)).skipMalformed().collect())
                .as("an empty file is not a skippable record").hasMessageContaining("file is empty");
        Path missing = dir.resolve("missing.jsonl");
        assertThatThrownBy(() -> Pipeline.from(Dataset.jsonl(missing)).collect())
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining(missing.toString());
        Path blanks = write("blank.jsonl", "\n\n  \n");
        assertThatThrownBy(() -> Pipeline.from(Dataset.jsonl(blanks)).collect())
                .hasMessageContaining("no JSON records");
        Path invalidUtf8 = dir.resolve("latin1.txt");
        Files.write(invalidUtf8, new byte[] {'c', 'a', 'f', (byte) 0xe9});
        assertThatThrownBy(() -> Pipeline.from(Dataset.text(invalidUtf8)).collect())
                .hasMessageContaining(invalidUtf8 + ": cannot read: not valid UTF-8");
    }

    @Test
    void textFoldersGiveOneDocumentPerFileInNameOrderSkippingHiddenFiles() throws Exception {
        Files.createDirectories(dir.resolve("books/b"));
        write("books/a.txt", "Alpha text.");
        write("books/b/c.txt", "Gamma text.");
        write("books/.hidden", "never read");
        List<Document> docs = Pipeline.from(Dataset.text(dir.resolve("books"))).collect();
        assertThat(docs).extracting(Document::id).containsExactly("a.txt", "b/c.txt");
        List<Document> lines = Pipeline.from(Dataset.text(write("l.txt", "one\n\ntwo\n")).perLine()).collect();
        assertThat(lines).extracting(Document::id).containsExactly("l.txt:1", "l.txt:3");
    }

    @Test
    void csvAndTsvReadTheTextColumnAndKeepOtherColumnsAsMetadata() throws Exception {
        Path csv = write("d.csv", "label,body\npositive,\"Hello, world\"\nnegative,\"multi\nline\"\n");
        List<Document> docs = Pipeline.from(Dataset.csv(csv, "body")).collect();
        assertThat(docs).extracting(Document::text).containsExactly("Hello, world", "multi\nline");
        assertThat(docs.get(0).metadata()).containsEntry("label", "positive");
        assertThat(docs.get(0).id()).isEqualTo("d.csv:2");
        Path tsv = write("d.tsv", "body\tlabel\nfirst\t1\nsecond\t0\n");
        assertThat(Pipeline.from(Dataset.tsv(tsv, "body")).collect()).extracting(Document::text)
                .containsExactly("first", "second");
        assertThatThrownBy(() -> Pipeline.from(Dataset.csv(csv, "text")).collect())
                .hasMessageContaining("no column \"text\"").hasMessageContaining("[label, body]");
        Path ragged = write("r.csv", "a,text\n1,x\n2\n3,z\n");
        PipelineReport report = Pipeline.from(Dataset.csv(ragged, "text")).skipMalformed().run(d -> { });
        assertThat(report.count("read", "malformed")).isEqualTo(1);
        assertThat(report.problems().get(0)).contains("r.csv:3").contains("1 fields, the header has 2");
    }

    private Path write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content);
        return file;
    }
}
