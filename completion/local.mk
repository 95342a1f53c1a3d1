# Shell completion for kairos-bridge (configure.ac: --with-bashcompletiondir,
# by default what `pkg-config --variable=completionsdir bash-completion`
# says; --with-zshcompletiondir, by default DATADIR/zsh/site-functions).
dist_bashcompletion_DATA = completion/bash/kairos-bridge
dist_zshcompletion_DATA = completion/zsh/_kairos-bridge
