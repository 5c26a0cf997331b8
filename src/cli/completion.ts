/** Shell completion scripts for bash, zsh and PowerShell, written from the commands oclif knows (its manifest). */

export const COMPLETION_SHELLS = ['bash', 'zsh', 'powershell'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/** What completion needs to know of one command. */
export interface CompletableCommand {
  /** Words joined by spaces: `daemon start`. */
  id: string;
  /** Every spelling of every flag: `--profile`, `-p`, `--wait`, `--no-wait`. */
  flags: string[];
  /** The flags among them that take a value (the next word is not a command word). */
  valueFlags: string[];
  /** Its argument is a file name (`chat transfer FILE`). */
  takesFile: boolean;
}

/** The flags of an oclif command as the manifest lists them. */
export interface ManifestFlag {
  name: string;
  char?: string;
  type: 'boolean' | 'option';
  allowNo?: boolean;
  hidden?: boolean;
}

/** Flags every command line accepts before any command (src/cli/global-flags.ts, oclif's own). */
const TOP_LEVEL_FLAGS = ['--help', '--version', '--profile', '-p', '--json'];

/** Every spelling of the visible flags of one command, and which take a value. */
export function flagSpellings(flags: Record<string, ManifestFlag>): { flags: string[]; valueFlags: string[] } {
  const spellings: string[] = ['--help'];
  const valueFlags: string[] = [];
  for (const flag of Object.values(flags)) {
    if (flag.hidden) continue;
    const names = [`--${flag.name}`, ...(flag.char ? [`-${flag.char}`] : [])];
    spellings.push(...names, ...(flag.allowNo ? [`--no-${flag.name}`] : []));
    if (flag.type === 'option') valueFlags.push(...names);
  }
  return { flags: [...new Set(spellings)].sort(), valueFlags: [...new Set(valueFlags)].sort() };
}

/** The completion script for `shell`: printed by `chat autocomplete SHELL`, sourced by the user's shell. */
export function completionScript(shell: CompletionShell, bin: string, commands: readonly CompletableCommand[]): string {
  const sorted = [...commands].sort((a, b) => a.id.localeCompare(b.id));
  const valueFlags = [...new Set(sorted.flatMap((command) => command.valueFlags))].sort();
  switch (shell) {
    case 'bash':
      return bashScript(bin, sorted, valueFlags);
    case 'zsh':
      return zshScript(bin, sorted, valueFlags);
    case 'powershell':
      return powershellScript(bin, sorted, valueFlags);
  }
}

/** A shell identifier from the CLI's name (`chat` → `_chat_complete`). */
function functionName(bin: string): string {
  return `_${bin.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
}

function bashScript(bin: string, commands: readonly CompletableCommand[], valueFlags: readonly string[]): string {
  const name = functionName(bin);
  const flagCases = commands.map((command) => `    '${command.id}') flags='${command.flags.join(' ')}' ;;`);
  const fileCommands = commands.filter((command) => command.takesFile).map((command) => `'${command.id}'`);
  return `# ${bin} completion for bash. Load it in this shell: source <(${bin} autocomplete bash)
# or for every new shell: echo 'source <(${bin} autocomplete bash)' >> ~/.bashrc
${name}() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  local ids=$'${commands.map((command) => command.id).join('\\n')}'
  local value_flags=' ${valueFlags.join(' ')} '
  local typed='' word previous='' i
  # The command words typed so far: flags and the values of flags that take one left out.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ $word != -* && $value_flags != *" $previous "* ]]; then typed+="\${typed:+ }$word"; fi
    previous=$word
  done
  if [[ $value_flags == *" $previous "* ]]; then
    COMPREPLY=()
    return
  fi
  local command='' id
  while IFS= read -r id; do
    if [[ $typed == "$id" || $typed == "$id "* ]] && ((\${#id} > \${#command})); then command=$id; fi
  done <<<"$ids"
  if [[ $cur == -* ]]; then
    local flags='${TOP_LEVEL_FLAGS.join(' ')}'
    case $command in
${flagCases.join('\n')}
    esac
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  # The next command word: what the ids that start with the typed words have after them.
  local next=' ' prefix=\${typed:+$typed }
  while IFS= read -r id; do
    if [[ $id == "$prefix"?* ]]; then
      id=\${id#"$prefix"}
      id=\${id%% *}
      [[ $next == *" $id "* ]] || next+="$id "
    fi
  done <<<"$ids"
  COMPREPLY=($(compgen -W "$next" -- "$cur"))
  case $command in
    ${fileCommands.length > 0 ? fileCommands.join('|') : "''"})
      if [[ $typed == "$command" ]]; then
        compopt -o filenames 2>/dev/null
        COMPREPLY+=($(compgen -f -- "$cur"))
      fi ;;
  esac
}
complete -F ${name} ${bin}
`;
}

function zshScript(bin: string, commands: readonly CompletableCommand[], valueFlags: readonly string[]): string {
  const name = functionName(bin);
  const flagCases = commands.map((command) => `    '${command.id}') flags=(${command.flags.join(' ')}) ;;`);
  const fileCommands = commands.filter((command) => command.takesFile).map((command) => `'${command.id}'`);
  return `#compdef ${bin}
# ${bin} completion for zsh. Load it in this shell: source <(${bin} autocomplete zsh)
# or for every new shell: echo 'source <(${bin} autocomplete zsh)' >> ~/.zshrc (after compinit)
${name}() {
  local cur=\${words[CURRENT]}
  local -a ids flags next
  ids=(${commands.map((command) => `'${command.id}'`).join(' ')})
  local value_flags=' ${valueFlags.join(' ')} '
  local typed='' word previous='' i id command=''
  # The command words typed so far: flags and the values of flags that take one left out.
  for ((i = 2; i < CURRENT; i++)); do
    word=\${words[i]}
    if [[ $word != -* && $value_flags != *" $previous "* ]]; then typed+="\${typed:+ }$word"; fi
    previous=$word
  done
  [[ $value_flags == *" $previous "* ]] && return 1
  for id in $ids; do
    if [[ $typed == "$id" || $typed == "$id "* ]] && ((\${#id} > \${#command})); then command=$id; fi
  done
  if [[ $cur == -* ]]; then
    flags=(${TOP_LEVEL_FLAGS.join(' ')})
    case $command in
${flagCases.join('\n')}
    esac
    compadd -- $flags
    return
  fi
  local prefix=\${typed:+$typed }
  for id in $ids; do
    if [[ $id == "$prefix"?* ]]; then
      id=\${id#"$prefix"}
      next+=(\${id%% *})
    fi
  done
  (( \${#next} )) && compadd -- \${(u)next}
  case $command in
    ${fileCommands.length > 0 ? fileCommands.join('|') : "''"}) [[ $typed == "$command" ]] && _files ;;
  esac
}
compdef ${name} ${bin}
`;
}

function powershellScript(bin: string, commands: readonly CompletableCommand[], valueFlags: readonly string[]): string {
  const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
  const flagTable = commands.map((command) => `    ${quote(command.id)} = @(${command.flags.map(quote).join(', ')})`);
  return `# ${bin} completion for PowerShell. Load it in this session: ${bin} autocomplete powershell | Out-String | Invoke-Expression
# or for every new session: add that line to $PROFILE
Register-ArgumentCompleter -Native -CommandName ${quote(bin)} -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $ids = @(${commands.map((command) => quote(command.id)).join(', ')})
  $flagsOf = @{
${flagTable.join('\n')}
  }
  $valueFlags = @(${valueFlags.map(quote).join(', ')})
  $fileCommands = @(${commands.filter((command) => command.takesFile).map((command) => quote(command.id)).join(', ')})
  # The command words typed before the word being completed: flags and their values left out.
  $words = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
  if ($wordToComplete -ne '' -and $words.Count -gt 0) { $words = @($words | Select-Object -SkipLast 1) }
  $typed = @()
  $previous = ''
  foreach ($word in $words) {
    if (-not $word.StartsWith('-') -and -not ($valueFlags -contains $previous)) { $typed += $word }
    $previous = $word
  }
  if ($valueFlags -contains $previous) { return }
  $typedText = $typed -join ' '
  $command = ''
  foreach ($id in $ids) {
    if (($typedText -eq $id -or $typedText.StartsWith("$id ")) -and $id.Length -gt $command.Length) { $command = $id }
  }
  if ($wordToComplete.StartsWith('-')) {
    $flags = if ($flagsOf.ContainsKey($command)) { $flagsOf[$command] } else { @(${TOP_LEVEL_FLAGS.map(quote).join(', ')}) }
    $flags | Where-Object { $_.StartsWith($wordToComplete) } | ForEach-Object {
      [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterName', $_)
    }
    return
  }
  $prefix = if ($typedText -eq '') { '' } else { "$typedText " }
  $next = $ids | Where-Object { $_.Length -gt $prefix.Length -and $_.StartsWith($prefix) } | ForEach-Object { $_.Substring($prefix.Length).Split(' ')[0] } | Select-Object -Unique
  $next | Where-Object { $_.StartsWith($wordToComplete) } | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'Command', $_)
  }
  if ($fileCommands -contains $command) {
    Get-ChildItem -Path "$wordToComplete*" -ErrorAction SilentlyContinue | ForEach-Object {
      [System.Management.Automation.CompletionResult]::new($_.Name, $_.Name, 'ProviderItem', $_.Name)
    }
  }
}
`;
}
