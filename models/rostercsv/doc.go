// Package rostercsv reads a local's membership roster from the CSV file an
// officer exports from a spreadsheet or a membership system.
//
// Parse is pure (no database, no logging) and never panics. A problem with
// the whole file (too large, too many rows, not a CSV file, no recognisable
// column names) is returned as an error; a problem with one line becomes a
// RowError with a reason a union officer can act on, and the rest of the file
// is still read. Every line that is not blank ends up as exactly one Row or
// one RowError; a record whose quoted cell runs over several lines counts as
// the line it starts on. Line numbers are the ones a text editor shows
// (1 is the first line of the file).
//
// Decisions worth knowing:
//
//   - Formula cells. A member number, first name, last name or email whose
//     value (after trimming spaces, tabs and line breaks) starts with = + - or @
//     is a row error ("looks like a spreadsheet formula"), not silently
//     repaired: stripping the characters would store a name nobody typed, and
//     the officer should see what the file really says. A member number such
//     as "-123" is refused the same way, and one Excel has turned into
//     scientific notation ("1.04E+05") is refused with advice to format the
//     column as text. Exports elsewhere still neutralise formula cells.
//   - Encodings. UTF-8 with or without a byte-order mark; UTF-16 with a
//     byte-order mark (Excel's "Unicode Text"); anything else that is not valid
//     UTF-8 is read as Windows-1252 (Excel's default on Windows), byte sequence
//     by byte sequence, so a file that mixes the two still reads right. Bytes
//     Windows-1252 leaves undefined count as unreadable.
//   - Not a CSV file. A file that contains a NUL byte, in which more than one
//     character in twenty is an unprintable control character, or that starts
//     like an Excel workbook, a zip archive, a PDF, an image or a web page is
//     refused with ErrNotCSV; so is a file with a line of more than 2,000
//     cells, which would cost the CSV reader memory out of all proportion.
//   - Column names. The column-names line is the first of the first ten
//     non-blank lines that names a member number, first name and last name
//     column (so a title line above it is tolerated and reported as a skipped
//     line). An Excel "sep=;" line before it is honoured and not reported.
//     The delimiter (comma, semicolon or tab) is the one that occurs most
//     often, outside quotes, on that line.
//   - Quote marks. Excel's quoting is read strictly; a line whose quote marks
//     do not pair up is read again leniently on its own, and if that still
//     fails it is a row error. A quote that is never closed does not swallow
//     the rest of the file: the line it opens on is reported and reading
//     starts again on the next line.
//   - Duplicates. The first line with a member number wins, even if that line
//     has another problem; later lines with the same member number (compared
//     without regard to case) are row errors naming the first line.
//   - A data line with more cells than the column-names line is a row error
//     (usually a name with an unquoted comma, which would shift the columns).
//   - Values are trimmed and put in Unicode NFC form; emails are kept as
//     written. Standing defaults to "good" when the column is absent or the
//     cell is blank.
//
// Row errors are in English; the handler shows them as they are.
package rostercsv
