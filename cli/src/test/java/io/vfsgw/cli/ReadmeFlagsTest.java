package io.vfsgw.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The README lists every flag of every command (the front door must stay true as flags are added). */
class ReadmeFlagsTest {
    @Test
    void everyOptionOfEveryCommandIsInTheReadme() throws Exception {
        // the first cell of every table row: "| `--cache none\\|auto\\|always` | ..." -> "`--cache none\\|auto\\|always`"
        String cells = Files.readAllLines(Path.of("..", "README.md")).stream()
                .filter(l -> l.startsWith("| `"))
                .map(l -> l.substring(1, l.indexOf(" | ") > 0 ? l.indexOf(" | ") : l.length()))
                .collect(java.util.stream.Collectors.joining("\n"));
        TreeSet<String> missing = new TreeSet<>();
        CommandLine top = new CommandLine(new VfsgwCommand());
        for (CommandLine command : allCommands(top)) {
            for (OptionSpec option : command.getCommandSpec().options()) {
                if (option.usageHelp() || option.versionHelp()) {
                    continue;
                }
                // one of its names is enough: aliases (--s3-bucket for --bucket) are listed together
                if (List.of(option.names()).stream().noneMatch(n -> cells.contains("`" + n + " ")
                        || cells.contains("`" + n + "`") || cells.contains(", " + n + "`")
                        || cells.contains("`" + n.replace("--", "--[no-]")))) {
                    missing.add(command.getCommandName() + " " + option.longestName());
                }
            }
        }
        assertEquals(new TreeSet<String>(), missing, "options missing from README.md's command-line tables");
    }

    private static List<CommandLine> allCommands(CommandLine c) {
        List<CommandLine> out = new java.util.ArrayList<>(List.of(c));
        for (CommandLine sub : c.getSubcommands().values()) {
            out.addAll(allCommands(sub));
        }
        return out;
    }
}
